# The sensitive-value rules hold for what a template writes: no cell attribute may use
# a sensitive value, and a message about an inherited expression leaves it out.
variable "token" {
  type      = string
  sensitive = true
  default   = "s3cr3t"
}
template "base" {
  env = { TOKEN = var.token }
  skip {
    condition = tonumber(var.token) > 0
    reason    = "never"
  }
}
template "skips" {
  skip {
    condition = tonumber(var.token) > 0
    reason    = "never"
  }
}
target "t" {
  inherits = ["skips"]
  image    = "img"
  script   = "true"
  artifact = "t.tar.gz"
}
