locals {
  image = "node:${matrix.node}"
}

target "t" {
  matrix = {
    node = [20, 22]
    arch = matrix.node == 20 ? ["x64"] : ["arm64"]
  }
  image    = local.image
  script   = "true"
  artifact = "a-${matrix.node}.tar.gz"
}
