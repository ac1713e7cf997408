variable "registry" {
  type        = string
  description = "Where images come from."
}

target "t" {
  image    = "${var.registry}/node:20"
  script   = "true"
  artifact = "a.tar.gz"
}
