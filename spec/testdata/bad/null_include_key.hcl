target "t" {
  matrix  = { node = [20, 22] }
  include = [{ node = 22, flavor = "slim" }]
  image    = "img"
  script   = "true"
  artifact = "a-${matrix.node}-${matrix.flavor}.tar.gz"
}
