# A registry call may not be given a sensitive value, by the rule of sensitive.go:
# it would be sent to the registry and recorded in matrix.lock.json. An iterator over
# other values may be given (iterated).
variable "tok" {
  sensitive = true
  default   = "s3cr3t"
}

variable "pkg" {
  default = "sharp"
  validation {
    condition     = length(npm_versions(var.tok, "*")) > 0
    error_message = "No versions."
  }
}

locals {
  secret_name = "${var.tok}-pkg"
  versions    = npm_versions(local.secret_name, "*")
  iterated    = { for p in ["sharp"] : p => npm_package(p, "0.33.5") }
}

target "t" {
  image    = "img"
  script   = "true"
  artifact = "a.zip"
  env = {
    V = join(",", npm_versions(var.pkg, var.tok))
  }
  skip {
    condition = var.tok == ""
    reason    = "no token: ${var.tok}"
  }
}
