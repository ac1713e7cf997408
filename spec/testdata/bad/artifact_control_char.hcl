target "t" {
  image    = "img"
  script   = "true"
  artifact = "sharp\n.tar.gz"
}
