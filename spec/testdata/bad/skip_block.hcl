# The shape of skip blocks is checked when the file loads.
target "t" {
  matrix = { node = [20, 22] }
  image    = "img"
  script   = "true"
  artifact = "a-${matrix.node}.zip"
  skip {
    condition = matrix.nod == 20
    reason    = "typo"
    because   = "unknown attribute"
  }
  skip {
    condition = true
  }
  skip "named" {
    condition = true
    reason    = "labels"
  }
  dynamic "skip" {
    for_each = [1]
    content {
      condition = true
      reason    = "generated"
    }
  }
}
