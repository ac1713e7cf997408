target "t" {
  image    = "img"
  script   = "true"
  artifact = "sharp.tar"
}
