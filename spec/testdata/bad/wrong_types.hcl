target "t" {
  image    = ["img"]
  script   = "true"
  artifact = "a.tar.gz"
  env      = ["A=1"]
  pass_env = "HOME"
  mount {
    source    = "/src"
    target    = "/dst"
    read_only = "sometimes"
  }
}
