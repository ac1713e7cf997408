# An npm block's install: a non-empty list of strings npm reads as packages.
variable "specs" {
  type    = list(string)
  default = []
}

target "empty" {
  image    = "img"
  artifact = "empty.tar.gz"
  npm {
    install = []
  }
}

target "empty_var" {
  image    = "img"
  artifact = "empty_var.tar.gz"
  npm {
    install = var.specs
  }
}

target "not_a_list" {
  image    = "img"
  artifact = "not_a_list.tar.gz"
  npm {
    install = "sharp@0.34.5"
  }
}

target "not_strings" {
  matrix   = { v = ["0.34.5"] }
  image    = "img"
  artifact = "not_strings-${matrix.v}.tar.gz"
  npm {
    install = ["sharp@${matrix.v}", 1, ["detect-libc"], true, null]
  }
}

target "options" {
  image    = "img"
  artifact = "options.tar.gz"
  npm {
    install = ["--registry=http://127.0.0.1:1/", "sharp\n@1", " "]
  }
}

target "missing" {
  image    = "img"
  artifact = "missing.tar.gz"
  npm {
    cpu = "x64"
  }
}
