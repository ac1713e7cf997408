target "t" {
  imgae    = "img"
  script   = "true"
  artifact = "a.tar.gz"
}
