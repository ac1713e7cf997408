# The maintainers' matrix: prebuilt sharp bundles (node_modules with the native
# binaries for one CPU architecture) for every AWS Lambda Node.js runtime.
#
#   matrix plan                            # the cells, with internet and a registry
#   matrix plan --var-file offline.hcl     # a machine without either (see offline.hcl)
#
# Reference: README.md, "matrix.hcl reference".

variable "sharp_versions" {
  type        = list(string)
  default     = ["0.33.5", "0.34.5", "0.35.5"]
  description = "sharp versions to build. sharp < 0.33 downloads libvips at install time and is not supported."
  validation {
    condition     = length([for v in var.sharp_versions : v if length(regexall("^[0-9]+\\.[0-9]+\\.[0-9]+$", v)) == 0]) == 0
    error_message = "Each sharp version must be an exact version like 0.34.5."
  }
}

variable "nodes" {
  type        = list(number)
  default     = [20, 22, 24]
  description = "Node.js major versions: the Lambda runtimes nodejs20.x, nodejs22.x, nodejs24.x."
}

variable "archs" {
  type        = list(string)
  default     = ["x64", "arm64"]
  description = "CPU architectures, as npm names them (--cpu)."
  validation {
    condition     = length(setsubtract(var.archs, ["x64", "arm64"])) == 0
    error_message = "Lambda runs x64 and arm64 only."
  }
}

variable "build_image" {
  type        = string
  default     = "public.ecr.aws/sam/build-nodejs%d.x"
  description = "The image cells build in, as a format() string given the Node.js major."
  validation {
    condition     = length(regexall("%d", var.build_image)) == 1
    error_message = "The build image must contain %d once, where the Node.js major goes."
  }
}

variable "runtime_image" {
  type        = string
  default     = "public.ecr.aws/lambda/nodejs:%d"
  description = "The image the test runs the artifact in, as a format() string given the Node.js major."
  validation {
    condition     = length(regexall("%d", var.runtime_image)) == 1
    error_message = "The runtime image must contain %d once, where the Node.js major goes."
  }
}

variable "network" {
  type        = string
  default     = ""
  description = "The containers' network; empty for the engine's default. \"host\" where only the host reaches the npm registry."
}

variable "ca_bundle" {
  type        = string
  default     = ""
  description = "A host CA bundle to trust in the containers (a TLS-intercepting proxy); empty for none."
}

variable "npm_cache" {
  type        = bool
  default     = true
  description = "Share npm's download cache (/root/.npm) between cells and runs, in the engine volume matrix-cache-npm. npm checks every download's integrity, so the cache changes no artifact."
}

variable "format" {
  type        = string
  default     = "tar.gz"
  description = "Artifact format: tar.gz (node_modules/ at the root) or zip (an AWS Lambda layer: nodejs/node_modules/)."
  validation {
    condition     = contains(["tar.gz", "zip"], var.format)
    error_message = "The format must be tar.gz or zip."
  }
}

locals {
  platforms = { x64 = "linux/amd64", arm64 = "linux/arm64" }
  ca_target = "/etc/ssl/certs/matrix-ca.crt"
  # Node.js adds these certificates to its built-in ones; npm runs on Node.js.
  ca_env = var.ca_bundle == "" ? {} : { NODE_EXTRA_CA_CERTS = local.ca_target }
}

# What every npm build here needs, whatever it installs: the network, the CA bundle
# and npm's cache. A target gets these lines with inherits = ["npm-container"]
# (README.md, "Templates and inherits").
template "npm-container" {
  network = var.network
  env = merge(local.ca_env, {
    npm_config_update_notifier = "false"
  })

  dynamic "mount" {
    for_each = var.ca_bundle == "" ? [] : [var.ca_bundle]
    content {
      source    = mount.value
      target    = local.ca_target
      read_only = true
    }
  }
  dynamic "mount" {
    for_each = var.npm_cache ? ["npm"] : []
    content {
      type   = "cache"
      source = mount.value
      target = "/root/.npm"
    }
  }
}

target "sharp-lambda" {
  inherits = ["npm-container"]
  matrix = {
    sharp = var.sharp_versions
    node  = var.nodes
    arch  = var.archs
  }

  # sharp 0.35 declares engines { node = ">=20.9.0" }; 0.33 and 0.34 accept ^18.17.0,
  # ^20.3.0 and >=21. Every Lambda nodejs20.x runtime and build image ships a Node.js 20
  # later than 20.9, so all of the default cells can work and none is excluded. What
  # cannot work is sharp 0.35 or later on the nodejs18.x runtime (Node.js 18): excluded
  # here in case 18 is added to nodes.
  exclude = [
    for v in var.sharp_versions : { sharp = v, node = 18 }
    if !startswith(v, "0.33.") && !startswith(v, "0.34.")
  ]

  image    = format(var.build_image, matrix.node)
  platform = local.platforms[matrix.arch]
  workdir  = "/build"

  # --cpu, --os and --libc make npm pick sharp's prebuilt binaries for the cell's
  # platform even when the build container runs on another one.
  # A plain run resolves sharp's dependencies anew and records package.json and
  # package-lock.json in matrix.lock.json; `matrix run --locked` puts them back in the
  # workdir (with MATRIX_LOCKED=1) and npm ci installs exactly that tree.
  # npm's lock lists the optional binaries of every platform, and npm 10 cannot tell
  # the musl ones apart when it installs from a lock (its lock has no libc field), so
  # the lock is first cut down to the packages this install chose.
  script = <<-EOT
    set -eu
    flags="--no-audit --no-fund --omit=dev --cpu=${matrix.arch} --os=linux --libc=glibc"
    if [ "$${MATRIX_LOCKED:-}" = 1 ]; then
      npm ci $flags
    else
      # npm writes package.json itself; `npm init` would cost a second per cell.
      npm install $flags sharp@${matrix.sharp}
      node -e '
        const fs = require("fs");
        const lock = JSON.parse(fs.readFileSync("package-lock.json"));
        const installed = JSON.parse(fs.readFileSync("node_modules/.package-lock.json")).packages;
        for (const name of Object.keys(lock.packages)) {
          if (name !== "" && !(name in installed)) delete lock.packages[name];
        }
        fs.writeFileSync("package-lock.json", JSON.stringify(lock, null, 2) + "\n");
      '
    fi
    # npm install leaves an empty scope directory for optional packages it skipped
    # (@emnapi); npm ci does not: drop them so both give the same tree.
    find node_modules -type d -empty -delete
  EOT

  collect  = "/build/node_modules"
  artifact = "sharp-${matrix.sharp}-node${matrix.node}-linux-${matrix.arch}.${var.format}"
  timeout  = "20m"
  max_size = "200MiB"

  # Load sharp in the Lambda runtime image and resize a generated PNG: proves the native
  # binaries match the runtime's Node.js ABI, CPU and glibc. A zip is a Lambda layer:
  # Lambda unpacks layers into /opt and finds /opt/nodejs/node_modules through
  # NODE_PATH, so the test does the same.
  test {
    image   = format(var.runtime_image, matrix.node)
    workdir = var.format == "zip" ? "/opt" : "/test"
    env = {
      NODE_PATH = var.format == "zip" ? "/opt/nodejs/node_modules" : "/test/node_modules"
    }
    script  = <<-EOT
      node -e '
        const sharp = require("sharp");
        const want = "${matrix.sharp}";
        // sharp 0.35 exports no ./package.json: read it next to the resolved module.
        const pkg = require("path").join(require.resolve("sharp"), "..", "..", "package.json");
        const got = JSON.parse(require("fs").readFileSync(pkg, "utf8")).version;
        if (got !== want) { console.error("sharp " + got + ", want " + want); process.exit(1); }
        sharp({ create: { width: 8, height: 8, channels: 3, background: "#f00" } })
          .png().resize(4).toBuffer()
          .then((b) => console.log("sharp " + got + " on node " + process.version + " " + process.arch + ": " + b.length + " bytes"))
          .catch((e) => { console.error(e); process.exit(1); });
      '
    EOT
    timeout = "5m"
  }
}
