target "t" {
  image    = "img"
  script   = "true"
  artifact = "a.tar.gz"
  timeout  = "20 minutes"
}

target "u" {
  image    = "img"
  script   = "true"
  artifact = "b.tar.gz"
  timeout  = "48h"
  test {
    script  = "true"
    timeout = "-1m"
  }
}
