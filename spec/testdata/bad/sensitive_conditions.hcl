# A sensitive value may decide whether a cell is built (a skip condition) and make a
# local: messages about such expressions leave out what HCL would show of the value
# ("with t as ...", a function's message, a duplicate key), and show the value of an
# iterator over other values, of the same name as one over a sensitive value or not.
variable "tokens" {
  type      = list(string)
  sensitive = true
  default   = ["s3cr3t"]
}
variable "names" {
  type      = map(string)
  sensitive = true
  default   = { "s3cr3t" = "x" }
}
locals {
  keys  = { for t in concat(var.tokens, var.tokens) : t => 1 }
  parts = [for k, v in var.names : k * 2]
}
target "skip" {
  matrix   = { n = [1, 2] }
  image    = "img"
  script   = "true"
  artifact = "skip-${matrix.n}.tar.gz"
  skip {
    condition = matrix.n == 1 && tonumber(var.tokens[0]) > 0
    reason    = "the first"
  }
  skip {
    condition = matrix.n == 2 && length([for t in var.tokens : t if t + 1 > 0]) > 0
    reason    = "the second"
  }
}
target "plain" {
  image    = "img"
  script   = "true"
  artifact = "plain.tar.gz"
  skip {
    condition = length([for t in ["x"] : t if t + 1 > 0]) > 0
    reason    = "shown"
  }
}
