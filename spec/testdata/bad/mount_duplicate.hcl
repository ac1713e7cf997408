target "t" {
  image    = "img"
  script   = "true"
  artifact = "a.tar.gz"
  mount {
    source = "/a"
    target = "/data"
  }
  mount {
    source = "/b"
    target = "/data/"
  }
}
