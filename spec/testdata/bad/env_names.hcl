target "t" {
  image    = "img"
  script   = "true"
  artifact = "a.tar.gz"
  env = {
    "NODE OPTIONS" = "--max-old-space-size=4096"
    "1X"           = "y"
    HOME           = "/root"
  }
  pass_env = ["HOME", "bad-name", "TOKEN", "TOKEN"]
}
