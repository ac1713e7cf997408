# What the registry answers is reported at the call, or at the argument it is about.
target "t" {
  matrix = {
    sharp = npm_versions("shrap", ">=0.33")
  }
  image    = "img"
  script   = "true"
  artifact = "a.zip"
}

target "u" {
  matrix = {
    sharp = npm_versions("sharp", ">=9")
  }
  image    = "img"
  script   = "true"
  artifact = "b.zip"
}

target "v" {
  matrix = {
    package = ["down", "unpinned"]
  }
  image    = "img:${length(npm_versions(matrix.package, "*"))}"
  script   = "true"
  artifact = "c-${matrix.package}.zip"
}

target "w" {
  matrix = {
    version = ["0.1.0", "0.33.5"]
  }
  image    = "img"
  script   = "true"
  artifact = "d-${matrix.version}.zip"
  env = {
    NODE    = npm_package("sharp", matrix.version).engines.node
    ENGINES = npm_package("left-pad", "1.3.0").engines.node
  }
}
