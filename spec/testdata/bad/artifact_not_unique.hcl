target "t" {
  matrix = {
    version = ["0.33.5", "0.34.5"]
    node    = [20, 22]
  }
  image    = "img"
  script   = "true"
  artifact = "sharp-${matrix.version}.tar.gz"
}
