target "sharp" {
  image    = "img"
  script   = "true"
  artifact = "a.tar.gz"
}

target "sharp" {
  image    = "img"
  script   = "true"
  artifact = "b.tar.gz"
}
