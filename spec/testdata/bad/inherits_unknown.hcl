# An inherits name that is neither a template nor a target: a typo gets a suggestion,
# and every name is listed.
template "npm-container" {
  network = "host"
}
template "ca" {
  env = { NODE_EXTRA_CA_CERTS = "/etc/ssl/certs/ca.crt" }
}
target "typo" {
  inherits = ["npm-contianer", "ca"]
  image    = "img"
  script   = "true"
  artifact = "typo.tar.gz"
}
target "far" {
  inherits = ["somewhere-else"]
  image    = "img"
  script   = "true"
  artifact = "far.tar.gz"
}
template "ca" {
  network = "none"
}
