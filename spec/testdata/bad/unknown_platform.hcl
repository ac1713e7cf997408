target "t" {
  matrix = {
    arch = ["x64", "arm64"]
  }
  image    = "img"
  platform = "linux/${matrix.arch}"
  script   = "true"
  artifact = "a-${matrix.arch}.tar.gz"
  test {
    script   = "true"
    platform = "solaris/sparc"
  }
}
