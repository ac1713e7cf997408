target "t" {
  image    = ""
  network  = "bad net!"
  pass_env = ["1BAD", "TOKEN", "TOKEN"]
  script   = "   "
  workdir  = ""
  collect  = ""
  artifact = "t.tar.gz"
  retries  = -1
  max_size = -5
  timeout  = "0s"
  test {
    image  = "has space:1"
    script = ""
  }
}

target "u" {
  image    = "node:20"
  env      = { TOKEN = "x" }
  pass_env = ["TOKEN"]
  script   = "true"
  artifact = ""
}
