# Every duplicate and every invalid value of an axis is reported, at the element.
target "t" {
  matrix = {
    a = ["x", "y", "x", "y"]
    b = [1, { n = 2 }, "1", [3]]
  }
  image    = "img"
  script   = "true"
  artifact = "a-${matrix.a}-${matrix.b}.tar.gz"
}
