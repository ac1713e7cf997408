target "t" {
  matrix = {
    node    = [20, 22]
    version = ["1.0.0"]
  }
  include = [{ node = 22, extra = "yes" }]
  image    = "node:${matrix.nod}"
  script   = "true"
  artifact = "a-${matrix.node}-${matrix.versoin}.tar.gz"
}
