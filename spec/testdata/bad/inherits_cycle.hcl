# Nothing inherits from itself: not by its own name, not through others. The cycle is
# reported once, with every link; what inherits from it is not planned.
template "a" {
  inherits = ["b"]
}
template "b" {
  inherits = ["c"]
  network  = "host"
}
target "c" {
  inherits = ["a"]
  image    = "img"
  script   = "true"
  artifact = "c.tar.gz"
}
target "d" {
  inherits = ["b"]
  image    = "img"
  script   = "true"
  artifact = "d.tar.gz"
}
template "self" {
  inherits = ["self"]
}
