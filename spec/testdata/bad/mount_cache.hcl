target "t" {
  image    = "img"
  script   = "npm install"
  artifact = "t.tar.gz"
  mount {
    type   = "cache"
    source = "../npm"
    target = "/root/.npm"
  }
  mount {
    type   = "volume"
    source = "x"
    target = "/x"
  }
}
