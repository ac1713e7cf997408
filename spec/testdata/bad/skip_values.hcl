# Each cell's skip blocks are evaluated in order, and their values checked per cell.
target "number" {
  image    = "img"
  script   = "true"
  artifact = "a.zip"
  skip {
    condition = 1
    reason    = "a number"
  }
}

target "null" {
  image    = "img"
  script   = "true"
  artifact = "b.zip"
  skip {
    condition = null
    reason    = "null"
  }
}

target "string" {
  image    = "img"
  script   = "true"
  artifact = "c.zip"
  skip {
    condition = "maybe"
    reason    = "a string"
  }
}

target "error" {
  matrix   = { version = ["1.2.3", "1.2"] }
  image    = "img"
  script   = "true"
  artifact = "d-${matrix.version}.zip"
  skip {
    condition = semver_major(matrix.version) < 1
    reason    = "before 1.0"
  }
}

target "reasons" {
  matrix   = { case = ["empty", "list", "newline", "bidi", "fine"] }
  image    = "img"
  script   = "true"
  artifact = "e-${matrix.case}.zip"
  skip {
    condition = matrix.case == "fine"
    reason    = "a fine reason"
  }
  skip {
    condition = matrix.case == "empty"
    reason    = "   "
  }
  skip {
    condition = matrix.case == "list"
    reason    = ["a", "b"]
  }
  skip {
    condition = matrix.case == "newline"
    reason    = "two\nlines"
  }
  skip {
    condition = matrix.case == "bidi"
    reason    = "a\u202eb"
  }
}
