target "t" {
  matrix = {
    node = [20, 22, 20]
  }
  image    = "img"
  script   = "true"
  artifact = "a-${matrix.node}.tar.gz"
}
