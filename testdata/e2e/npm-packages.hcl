# scripts/e2e.sh: native packages other than sharp, written with the npm block and no
# shell. @node-rs/argon2 (two versions on two runtimes) as tarballs, @napi-rs/canvas as
# a Lambda layer zip. Both ship glibc and musl binaries as optional packages of one
# lock: a locked rebuild must install the same tree, which the lock's recorded sha256
# proves.

variable "ca_bundle" {
  type        = string
  default     = "/etc/ssl/certs/ca-certificates.crt"
  description = "The host's CA bundle: the npm registry is reached through a TLS-intercepting proxy here."
}

template "npm-host" {
  network = "host"
  env = {
    NODE_EXTRA_CA_CERTS = "/etc/ssl/certs/matrix-ca.crt"
  }
  mount {
    source    = var.ca_bundle
    target    = "/etc/ssl/certs/matrix-ca.crt"
    read_only = true
  }
  mount {
    type   = "cache"
    source = "npm"
    target = "/root/.npm"
  }
}

target "argon2" {
  inherits = ["npm-host"]
  matrix = {
    version = ["2.0.0", "2.0.2"]
    node    = [20, 22]
  }
  image = "local/node:${matrix.node}"
  npm {
    install = ["@node-rs/argon2@${matrix.version}"]
    cpu     = "x64"
    os      = "linux"
    libc    = "glibc"
  }
  artifact = "argon2-${matrix.version}-node${matrix.node}-linux-x64.tar.gz"
  test {
    image  = "local/node:${matrix.node}"
    env    = { NODE_PATH = "/test/node_modules" }
    script = <<-EOT
      node -e '
        const { hashSync, verifySync } = require("@node-rs/argon2");
        const h = hashSync("matrix");
        if (!verifySync(h, "matrix") || verifySync(h, "other")) process.exit(1);
        console.log("argon2 ${matrix.version} on node " + process.version + ": " + h.slice(0, 16));
      '
    EOT
  }
}

target "canvas-layer" {
  inherits = ["npm-host"]
  image    = "local/node:22"
  npm {
    install = ["@napi-rs/canvas@0.1.84"]
    cpu     = "x64"
    os      = "linux"
    libc    = "glibc"
  }
  format   = "zip"
  artifact = "canvas-0.1.84-layer-linux-x64.zip"
  # Lambda unpacks a layer into /opt and finds /opt/nodejs/node_modules by NODE_PATH.
  test {
    image   = "local/node:22"
    workdir = "/opt"
    env     = { NODE_PATH = "/opt/nodejs/node_modules" }
    script  = <<-EOT
      node -e '
        const { createCanvas } = require("@napi-rs/canvas");
        const c = createCanvas(8, 8);
        c.getContext("2d").fillRect(0, 0, 4, 4);
        const png = c.toBuffer("image/png");
        if (png.length < 50) process.exit(1);
        console.log("canvas PNG of " + png.length + " bytes");
      '
    EOT
  }
}
