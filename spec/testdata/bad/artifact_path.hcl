target "t" {
  matrix = {
    dir = ["..", "out"]
  }
  image    = "img"
  script   = "true"
  artifact = "${matrix.dir}/sharp.tar.gz"
}
