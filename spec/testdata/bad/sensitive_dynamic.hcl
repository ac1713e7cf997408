# A dynamic block's iterator and a for expression's variables are as sensitive as what
# they iterate: a cell attribute made from one that iterates a sensitive list is refused,
# like any cell attribute made from a sensitive value (through locals, function calls,
# in the test block), since plan prints them all; one that iterates other values is not,
# and messages show its value.
variable "tokens" {
  type      = list(string)
  sensitive = true
  default   = ["s3cr3t"]
}
locals {
  upper = [for t in var.tokens : upper(t)]
  plain = "not secret"
}
target "mounts" {
  image    = "img"
  script   = "true"
  artifact = "mounts.tar.gz"
  dynamic "mount" {
    for_each = var.tokens
    content {
      source = mount.value + 1
      target = "/a"
    }
  }
  dynamic "mount" {
    for_each = concat(var.tokens, var.tokens)
    content {
      source = "/b"
      target = "/${mount.value}"
    }
  }
  test {
    script = "true"
    dynamic "mount" {
      for_each = local.upper
      iterator = m
      content {
        source = "/c"
        target = tonumber(m.value)
      }
    }
  }
}
target "expressions" {
  image    = "img"
  script   = "true"
  artifact = "expressions.tar.gz"
  env      = { for t in var.tokens : "A" => t * 2 }
  retries  = parseint(local.upper[0], 10)
  network  = "${local.plain} ${local.upper[0]}"
}
target "shown" {
  image    = "img"
  script   = "true"
  artifact = "shown.tar.gz"
  workdir  = local.plain
}
target "constant" {
  image    = "img"
  script   = "true"
  artifact = "constant.tar.gz"
  env      = { for k in ["1A"] : k => "x" }
  dynamic "mount" {
    for_each = ["relative"]
    content {
      source = "/d"
      target = mount.value
    }
  }
}
