target "t" {
  image    = "img"
  script   = "true"
  artifact = "a.tar.gz"
  max_size = "2 gigabytes"
}

target "u" {
  image    = "img"
  script   = "true"
  artifact = "b.tar.gz"
  max_size = "2TiB"
}

target "v" {
  image    = "img"
  script   = "true"
  artifact = "c.tar.gz"
  max_size = 0
}
