variable "versions" {
  type    = list(string)
  default = []
}

target "t" {
  matrix = {
    node    = [20, 22]
    version = var.versions
  }
  image    = "img"
  script   = "true"
  artifact = "a-${matrix.node}.tar.gz"
}
