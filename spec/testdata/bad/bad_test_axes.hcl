variable "nodes" {
  default = [20, 22]
}

target "not-object" {
  image    = "img"
  script   = "true"
  artifact = "a.tar.gz"
  test {
    matrix = var.nodes
    script = "true"
  }
}

target "duplicate" {
  image    = "img"
  script   = "true"
  artifact = "b.tar.gz"
  test {
    matrix = { node = var.nodes, node = [1] }
    script = "node ${test.node}"
  }
}

target "no-axes" {
  image    = "img"
  script   = "true"
  artifact = "c.tar.gz"
  test {
    script = "node ${test.node}"
  }
}

target "values" {
  image    = "img"
  script   = "true"
  artifact = "d.tar.gz"
  test {
    matrix = { node = [], os = "linux" }
    script = "true"
  }
}

target "dup-value" {
  image    = "img"
  script   = "true"
  artifact = "e.tar.gz"
  test {
    matrix = { node = [20, 20] }
    script = "true"
  }
}

target "metadata" {
  image    = "img"
  script   = "true"
  artifact = "f.tar.gz"
  metadata = { runtimes = ["nodejs20.x"] }
}
