# inherits is read when the file loads: a list of quoted names, without variables,
# functions or repeats.
variable "parent" {
  default = "base"
}
template "base" {
  network = "host"
}
target "var" {
  inherits = [var.parent]
  image    = "img"
  script   = "true"
  artifact = "var.tar.gz"
}
target "call" {
  inherits = [lower("BASE")]
  image    = "img"
  script   = "true"
  artifact = "call.tar.gz"
}
target "string" {
  inherits = "base"
  image    = "img"
  script   = "true"
  artifact = "string.tar.gz"
}
target "number" {
  inherits = ["base", 1]
  image    = "img"
  script   = "true"
  artifact = "number.tar.gz"
}
target "twice" {
  inherits = ["base", "base"]
  image    = "img"
  script   = "true"
  artifact = "twice.tar.gz"
}
target "matrix" {
  matrix   = { p = ["base"] }
  inherits = [matrix.p]
  image    = "img"
  script   = "true"
  artifact = "matrix-${matrix.p}.tar.gz"
}
