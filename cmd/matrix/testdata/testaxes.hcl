# A target whose test block has its own axes: one build per (pkg, arch), tested on each
# runtime, one runtime skipped for one version; arm64 built on x64, tested on arm64.
target "layer" {
  matrix = {
    pkg  = ["1.0.0", "2.0.0"]
    arch = ["x64", "arm64"]
  }
  image    = "build:24"
  platform = "linux/amd64"
  script   = "npm install pkg@${matrix.pkg} --cpu=${matrix.arch}"
  artifact = "pkg-${matrix.pkg}-${matrix.arch}.tar.gz"
  test {
    matrix   = { node = [18, 20, 22] }
    image    = "rt:${test.node}-${matrix.arch}"
    platform = matrix.arch == "x64" ? "linux/amd64" : "linux/arm64"
    skip {
      condition = matrix.pkg == "2.0.0" && test.node < 20
      reason    = "pkg ${matrix.pkg} needs Node.js 20"
    }
    script = "node -e 'require(\"pkg\")'"
  }
}

target "plain" {
  image    = "build:24"
  script   = "true"
  artifact = "plain.tar.gz"
  test {
    script = "true"
  }
}
