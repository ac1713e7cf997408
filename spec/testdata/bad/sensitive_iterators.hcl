# No iterator may be named var, local or matrix: it would hide those values from the
# expressions it scopes, and from the rule that judges what may be sensitive. Each use
# here would otherwise show a sensitive value as "with matrix.value as ...".
variable "tokens" {
  type      = list(string)
  sensitive = true
  default   = ["s3cr3t"]
}
variable "value" {
  default = "plain"
}
locals {
  doubled = [for local in var.tokens : local * 2]
}
target "dynamic" {
  matrix   = { value = ["x"] }
  image    = "img"
  script   = "true"
  artifact = "dynamic-${matrix.value}.tar.gz"
  dynamic "mount" {
    for_each = var.tokens
    iterator = matrix
    content {
      source = matrix.value + 1
      target = "/a"
    }
  }
  dynamic "mount" {
    for_each = var.tokens
    iterator = var
    content {
      source = var.value + 1
      target = "/b"
    }
  }
}
target "for" {
  image    = "img"
  script   = "true"
  artifact = "for.tar.gz"
  skip {
    condition = length([for matrix, t in var.tokens : t if t * 2 > matrix]) > 0
    reason    = "never"
  }
}
