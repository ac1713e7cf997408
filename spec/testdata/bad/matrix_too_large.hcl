# A matrix of more than 100,000 cells is reported at the matrix attribute, before any
# cell is evaluated.
target "huge" {
  matrix   = { a = range(1000), b = range(1000) }
  image    = "img"
  script   = "true"
  artifact = "h-${matrix.a}-${matrix.b}.tar.gz"
}
