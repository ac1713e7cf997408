target "t" {
  matrix = {
    node  = [{ major = 20 }]
    arch  = "x64"
    "bad key" = ["a"]
    node  = [22]
  }
  image    = "img"
  script   = "true"
  artifact = "a.tar.gz"
}
