target "t" {
  image    = "img"
  script   = "true"
  artifact = "-rf.tar.gz"
}
