# A template has no cells: a matrix, exclude or include there is refused; the targets
# that inherit it have their own. A template and a target share no name.
template "base" {
  matrix  = { node = [20, 22] }
  exclude = [{ node = 20 }]
  include = [{ node = 24 }]
  image   = "node:${matrix.node}"
}
target "t" {
  inherits = ["base"]
  script   = "true"
  artifact = "t.tar.gz"
}
template "t" {
  network = "host"
}
template "bad label!" {
  network = "host"
}
