target "t" {
  image    = "img"
  script   = "true"
  artifact = "a.tar.gz"
  dynamic "test" {
    for_each = [1]
    content {
      script = "true"
    }
  }
  dynamic "mount" {
    for_each = "not a list"
    content {
      source = mount.value
      target = "/x"
    }
  }
}
