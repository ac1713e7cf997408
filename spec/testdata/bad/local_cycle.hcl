locals {
  a = "${local.b}-x"
  b = "${local.c}-y"
  c = local.a
  d = "fine"
}

target "t" {
  image    = local.d
  script   = "true"
  artifact = "a.tar.gz"
}
