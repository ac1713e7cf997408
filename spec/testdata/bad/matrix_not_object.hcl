variable "axes" {
  default = { node = [20, 22] }
}

target "t" {
  matrix   = var.axes
  image    = "img"
  script   = "true"
  artifact = "a-${matrix.node}.tar.gz"
}
