# A cell's attributes may not use a sensitive value, directly or through a local: plan
# prints them all, and the artifact name is printed everywhere.
variable "tok" {
  sensitive = true
  default   = "s3cr3t value"
}
locals {
  t = var.tok
}
target "a" {
  image    = "reg/${var.tok}"
  script   = "true"
  artifact = "-${var.tok}.zip"
  timeout  = var.tok
  max_size = var.tok
  network  = local.t
  workdir  = local.t
  env      = { (var.tok) = "x" }
}
target "b" {
  image    = "img"
  script   = "true"
  artifact = "${var.tok}.tar.gz"
}
target "c" {
  image    = "img"
  script   = "true"
  artifact = "${local.t}.tar.gz"
}
target "shown" {
  image    = "img"
  script   = "true"
  artifact = "plain.tar.gz"
  timeout  = "forever"
}
