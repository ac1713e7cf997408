target "t" {
  matrix = {
    node = [20, 22]
    arch = ["x64", "arm64"]
  }
  exclude = [
    { node = 20, os = "windows" },
  ]
  image    = "img"
  script   = "true"
  artifact = "a-${matrix.node}-${matrix.arch}.tar.gz"
}
