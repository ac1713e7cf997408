# var: name=aÿb.tar.gz
# A --var value that is not UTF-8 is refused where it becomes the artifact name.
variable "name" {
  default = "a.tar.gz"
}

target "t" {
  image    = "img"
  script   = "true"
  artifact = var.name
}
