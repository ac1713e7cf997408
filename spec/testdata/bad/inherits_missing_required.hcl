# A required attribute may come from a parent; missing in the target and all it
# inherits, it is reported at the target with what it inherits.
template "base" {
  image = "img"
}
template "net" {
  inherits = ["base"]
  network  = "host"
}
target "t" {
  inherits = ["net"]
  script   = "true"
}
