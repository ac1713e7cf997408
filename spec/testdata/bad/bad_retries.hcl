target "t" {
  image    = "img"
  script   = "true"
  artifact = "a.tar.gz"
  retries  = 11
}

target "u" {
  image    = "img"
  script   = "true"
  artifact = "b.tar.gz"
  retries  = 1.5
}
