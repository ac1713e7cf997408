# validate reports every problem in one pass: an unknown attribute or block does not
# hide what is wrong in the target's other attributes (issue 11).
target "t" {
  matrix = { v = ["1", "2"] }
  image  = "img"
  npm {
    install = ["x@${matrix.v}"]
    bogus   = 1
  }
  artifact = "a-${matrix.v}.tar.gz"
  timeout  = "5 parsecs"
  unknown {
  }
  max_size = "lots"
  platfrom = "linux/amd64"
}
