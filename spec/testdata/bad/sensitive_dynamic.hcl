# A sensitive list as a dynamic block's for_each: messages about the generated blocks
# leave out the iterator's value, as they do wherever else a sensitive value can reach
# an expression (for expressions, locals made from it, function calls, the test block).
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
