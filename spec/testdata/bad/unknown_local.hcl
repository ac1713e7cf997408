locals {
  base = "node"
}

target "t" {
  image    = local.bsae
  script   = "true"
  artifact = "a.tar.gz"
}
