target "lower" {
  image    = "img"
  script   = "true"
  artifact = "sharp.tar.gz"
}

target "upper" {
  image    = "img"
  script   = "true"
  artifact = "Sharp.tar.gz"
}
