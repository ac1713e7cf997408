# bench/run.sh: the seed's work, so that the two compare equal work: one npm install of
# sharp per (version, Node.js major), each packed and (in -test runs) tested in its
# runtime. The root matrix.hcl builds one artifact per (sharp, CPU) and tests it on
# every runtime instead, which the seed cannot do.

variable "sharp_versions" {
  type    = list(string)
  default = ["0.33.5", "0.34.5"]
}

variable "nodes" {
  type    = list(number)
  default = [20, 22]
}

# copies > [0] repeat every install under other artifact names (bench/rerun.sh), as
# bench/seed.sh does with a COPY: equal work for many cells.
variable "copies" {
  type    = list(number)
  default = [0]
}

# The npm cache volume's name (matrix-cache-NAME): a bench that starts cold removes its
# own, not one that another run is using.
variable "npm_cache" {
  type    = string
  default = "npm"
}

variable "ca_bundle" {
  type    = string
  default = "/etc/ssl/certs/ca-certificates.crt"
}

target "sharp" {
  matrix = {
    sharp = var.sharp_versions
    node  = var.nodes
    copy  = var.copies
  }
  image   = "local/node:${matrix.node}"
  network = "host"
  env = {
    NODE_EXTRA_CA_CERTS = "/etc/ssl/certs/matrix-ca.crt"
    MATRIX_COPY         = "${matrix.copy}"
  }
  mount {
    source    = var.ca_bundle
    target    = "/etc/ssl/certs/matrix-ca.crt"
    read_only = true
  }
  mount {
    type   = "cache"
    source = var.npm_cache
    target = "/root/.npm"
  }
  npm {
    install = ["sharp@${matrix.sharp}"]
    cpu     = "x64"
    os      = "linux"
    libc    = "glibc"
  }
  artifact = "sharp-${matrix.sharp}-node${matrix.node}${matrix.copy == 0 ? "" : "-${matrix.copy}"}-linux-x64.tar.gz"
  test {
    image  = "local/node:${matrix.node}"
    env    = { NODE_PATH = "/test/node_modules" }
    script = <<-EOT
      node -e '
        require("sharp")({ create: { width: 8, height: 8, channels: 3, background: "#f00" } })
          .png().resize(4).toBuffer()
          .catch((e) => { console.error(e); process.exit(1); });
      '
    EOT
  }
}
