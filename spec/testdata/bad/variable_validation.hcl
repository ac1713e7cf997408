variable "archs" {
  type    = list(string)
  default = ["x64", "ppc"]
  validation {
    condition     = length(setsubtract(var.archs, ["x64", "arm64"])) == 0
    error_message = "Lambda runs x64 and arm64 only."
  }
}

target "t" {
  matrix   = { arch = var.archs }
  image    = "img"
  script   = "true"
  artifact = "a-${matrix.arch}.tar.gz"
}
