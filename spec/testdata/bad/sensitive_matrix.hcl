# A sensitive value may not decide which cells exist or what they are named; a
# validation message that refers to one is left out.
variable "tokens" {
  type      = list(string)
  sensitive = true
  default   = ["s3cr3t"]
  validation {
    condition     = length(var.tokens) > 1
    error_message = "Two tokens, not ${join(",", var.tokens)}."
  }
}
locals {
  copy = [for t in var.tokens : t]
}
target "axis" {
  matrix   = { token = local.copy, n = [1] }
  image    = "img"
  script   = "true"
  artifact = "axis-${matrix.token}.tar.gz"
}
target "keysets" {
  matrix   = { n = [1, 2] }
  exclude  = [for t in var.tokens : { n = t }]
  include  = [{ n = 3, token = var.tokens[0] }]
  image    = "img"
  script   = "true"
  artifact = "keysets-${matrix.n}.tar.gz"
}
