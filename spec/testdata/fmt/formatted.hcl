# Already canonical: fmt leaves it byte for byte.
target "a" {
  image  = "node:22"
  script = "true"
}
