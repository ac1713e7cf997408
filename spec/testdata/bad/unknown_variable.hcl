variable "image" {
  default = "node"
}

target "t" {
  image    = "${var.imgae}:20"
  script   = "true"
  artifact = "a.tar.gz"
  network  = unknown.thing
}
