# var: nodes=[20]
target "t" {
  image    = "img"
  script   = "true"
  artifact = "a.tar.gz"
}
