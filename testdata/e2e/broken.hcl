# A deliberately broken cell for scripts/e2e.sh: sharp installed with the binaries for
# musl libc, tested in a glibc runtime. It builds fine and must fail its test with
# the loader's error, the most common complaint of people shipping sharp to Lambda.
variable "ca_bundle" {
  type    = string
  default = "/etc/ssl/certs/ca-certificates.crt"
}

target "broken" {
  matrix = {
    node = [22]
  }
  image   = "local/node:${matrix.node}"
  network = "host"
  env = {
    NODE_EXTRA_CA_CERTS = "/etc/ssl/certs/matrix-ca.crt"
  }
  mount {
    source    = var.ca_bundle
    target    = "/etc/ssl/certs/matrix-ca.crt"
    read_only = true
  }
  script   = <<-EOT
    npm init -y >/dev/null
    npm install --no-audit --no-fund --omit=dev --cpu=x64 --os=linux --libc=musl sharp@0.34.5
  EOT
  artifact = "sharp-0.34.5-node${matrix.node}-linux-x64-musl.tar.gz"
  test {
    script = "node -e 'require(\"sharp\")'"
  }
}
