target "t" {
  image    = "img"
  script   = "true"
  artifact = "a.tar.gz"
  platform = "amd64"
  workdir  = "build"
  collect  = "node_modules"
  mount {
    source = "/cache"
    target = "cache"
  }
  test {
    script  = "true"
    workdir = "test"
  }
}
