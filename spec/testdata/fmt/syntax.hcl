target "a" {
  image = 
}
