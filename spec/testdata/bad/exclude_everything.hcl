# Empty exclude and include objects are rejected; a target whose cells are all excluded
# is reported at its exclude.
target "empty" {
  matrix   = { a = ["x", "y"] }
  exclude  = [{}]
  include  = [{ a = "x", b = 1 }, {}]
  image    = "img"
  script   = "true"
  artifact = "e-${matrix.a}.tar.gz"
}
target "computed" {
  matrix   = { a = ["x", "y"] }
  exclude  = [for v in ["x"] : {}]
  image    = "img"
  script   = "true"
  artifact = "c-${matrix.a}.tar.gz"
}
target "all" {
  matrix   = { a = ["x", "y"], b = [1, 2] }
  exclude  = [{ a = "x" }, { a = "y", b = 1 }, { b = 2 }]
  image    = "img"
  script   = "true"
  artifact = "a-${matrix.a}-${matrix.b}.tar.gz"
}
