target "t" {
  matrix  = { node = [20] }
  include = [
    { node = [20, 22] },
    "node=22",
  ]
  image    = "img"
  script   = "true"
  artifact = "a-${matrix.node}.tar.gz"
}
