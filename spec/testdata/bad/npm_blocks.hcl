# A target runs a script, an npm block, or both; never two npm blocks.
target "two" {
  image    = "img"
  artifact = "two.tar.gz"
  npm {
    install = ["sharp@0.34.5"]
  }
  npm {
    install = ["esbuild@0.25.0"]
  }
}

target "nothing" {
  image    = "img"
  artifact = "nothing.tar.gz"
}

target "unknown" {
  image    = "img"
  artifact = "unknown.tar.gz"
  npm {
    install = ["sharp@0.34.5"]
    flags   = ["--legacy-peer-deps"]
    cpu     = matrix.arch
  }
}

target "dynamic" {
  image    = "img"
  artifact = "dynamic.tar.gz"
  dynamic "npm" {
    for_each = [1]
    content {
      install = ["sharp@0.34.5"]
    }
  }
}
