variable "node" {
  default = 20
}

variable "node" {
  default = 22
}

variable "bad name!" {
}

target "t" {
  image    = "img"
  script   = "true"
  artifact = "a.tar.gz"
}
