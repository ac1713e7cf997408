# An inherited expression is evaluated in each inheriting target's cells: a problem
# points at the template and says which target inherits it, once per target; a matrix
# key a target lacks is reported when the file loads.
template "base" {
  image   = format("node:%d", matrix.node)
  timeout = "20 minutes"
  mount {
    source = "/tmp"
    target = "/cache/${matrix.node}"
  }
}
target "a" {
  inherits = ["base"]
  matrix   = { node = [20, 22] }
  script   = "true"
  artifact = "a-${matrix.node}.tar.gz"
}
target "b" {
  inherits = ["base"]
  matrix   = { node = [24] }
  script   = "true"
  artifact = "b.tar.gz"
}
target "c" {
  inherits = ["base"]
  matrix   = { version = [1] }
  script   = "true"
  artifact = "c.tar.gz"
}
