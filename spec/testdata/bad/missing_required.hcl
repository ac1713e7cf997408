target "t" {
  image = "img"
}
