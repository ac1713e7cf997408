# plan's selection and GitHub output (select_test.go): two targets, a skipped cell, a
# test axis, a cell of a platform no hosted runner has, a test on another CPU.
variable "note" {
  default = "a variable for ci github to pass on (ci_test.go)"
}

target "sharp" {
  matrix = {
    sharp = ["0.33.5", "0.34.4", "0.34.5"]
    arch  = ["x64", "arm64"]
  }
  skip {
    condition = matrix.sharp == "0.33.5" && matrix.arch == "arm64"
    reason    = "not this one"
  }
  image    = "node:22"
  platform = matrix.arch == "x64" ? "linux/amd64" : "linux/arm64"
  script   = "true"
  artifact = "sharp-${matrix.sharp}-${matrix.arch}.tar.gz"
  test {
    matrix = { node = [20, 22] }
    image  = "node:${test.node}"
    script = "true"
  }
}

target "pi" {
  matrix = { os = ["bookworm"] }
  image    = "debian:${matrix.os}"
  platform = "linux/arm/v7"
  script   = "true"
  artifact = "pi-${matrix.os}.tar.gz"
}

target "cross" {
  image    = "debian:bookworm"
  platform = "linux/amd64"
  script   = "true"
  artifact = "cross.tar.gz"
  test {
    image    = "debian:bookworm"
    platform = "linux/arm64"
    script   = "true"
  }
}
