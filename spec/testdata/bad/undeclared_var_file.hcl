# var-file: undeclared_var_file.vars
variable "network" {
  default = ""
}

target "t" {
  image    = "img"
  script   = "true"
  artifact = "a.tar.gz"
  network  = var.network
}
