target "t" {
  image    = "img"
  script   = "true"
  artifact = "a.tar.gz"
  test {
    image = "runtime"
    pass_env = ["X"]
  }
  test {
    script = "true"
  }
}
