# A dynamic block without content is reported even when other parts of the target are
# wrong; two content blocks are a duplicate, not a missing one.
target "t" {
  image    = "img"
  script   = "true"
  artifact = "a.tar.gz"
  retries  = var.nope
  dynamic "mount" {
    for_each = ["/a"]
  }
  dynamic "mount" {
    for_each = ["/b"]
    content {
      source = mount.value
      target = "/b"
    }
    content {
      source = mount.value
      target = "/c"
    }
  }
}
