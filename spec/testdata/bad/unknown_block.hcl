target "t" {
  image    = "img"
  script   = "true"
  artifact = "a.tar.gz"
  build {
    args = []
  }
}

group "all" {
  targets = ["t"]
}
