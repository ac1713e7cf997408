# A problem in one target must not hide the problems in the others.
target "a" {
  image    = "img"
  script   = "true"
  artifact = "a.tar.gz"
  bogus    = 1
}
target "b" {
  image    = "img"
  script   = "true"
  artifact = "b.tar.gz"
  timeout  = "forever"
}
target "c" {
  image    = "img"
  script   = "true"
  artifact = "c.tar.gz"
}
target "d" {
  image    = "img"
  script   = "true"
  artifact = "c.tar.gz"
}
