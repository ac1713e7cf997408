variable "nodes" {
  type    = list(number)
  default = ["twenty"]
}

variable "typo" {
  type    = lisst(string)
  default = []
}

target "t" {
  image    = "img"
  script   = "true"
  artifact = "a.tar.gz"
}
