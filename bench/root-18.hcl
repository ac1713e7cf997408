# bench/root.sh's "before": the root matrix as it was before one build was tested on
# every runtime: one artifact per (sharp, Node.js major, arch), each built in its own
# runtime's image of its own CPU (arm64 under emulation on an x64 machine) and tested
# in that runtime only. Variables, locals and the template are the root matrix.hcl's
# (build_arch is unused here). Compare matrix.hcl: one build per (sharp, arch), cross-built,
# tested on every runtime.
variable "sharp_range" {
  type        = string
  default     = ">=0.33.0"
  description = "The sharp versions to build: the newest patch of every minor in this node-semver range, as the npm registry lists them (pinned in matrix.lock.json; matrix outdated / matrix update refresh them). sharp < 0.33 downloads libvips at install time and is not supported."
}

variable "sharp_versions" {
  type        = list(string)
  default     = []
  description = "Exact sharp versions to build instead of sharp_range; empty: resolve sharp_range."
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

variable "build_arch" {
  type        = string
  default     = "x64"
  description = "The CPU every cell is built on, at native speed: npm's --cpu picks each cell's own binaries, and the ELF check proves them; each artifact is then tested on its own CPU (under emulation when that is not the engine's)."
  validation {
    condition     = contains(["x64", "arm64"], var.build_arch)
    error_message = "The build CPU is x64 or arm64."
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

variable "build_image_per_arch" {
  type        = map(string)
  default     = {}
  description = "Per-arch overrides of build_image (same format), for where one image name cannot hold every platform: without a registry, a local image is of one platform."
  validation {
    condition     = length([for k, v in var.build_image_per_arch : k if length(regexall("%d", v)) != 1]) == 0
    error_message = "Each per-arch build image must contain %d once, where the Node.js major goes."
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

variable "runtime_image_per_arch" {
  type        = map(string)
  default     = {}
  description = "Per-arch overrides of runtime_image (same format), as build_image_per_arch."
  validation {
    condition     = length([for k, v in var.runtime_image_per_arch : k if length(regexall("%d", v)) != 1]) == 0
    error_message = "Each per-arch runtime image must contain %d once, where the Node.js major goes."
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
  # The newest patch of each sharp minor that the range admits, ascending. (HCL
  # evaluates both branches, so the registry call is pinned in matrix.lock.json even
  # when sharp_versions overrides it; --locked does not need that pin.)
  sharp_versions = length(var.sharp_versions) > 0 ? var.sharp_versions : npm_versions("sharp", var.sharp_range, { per = "minor" })
  platforms      = { x64 = "linux/amd64", arm64 = "linux/arm64" }
  ca_target      = "/etc/ssl/certs/matrix-ca.crt"
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
    sharp = local.sharp_versions
    node  = var.nodes
    arch  = var.archs
  }

  # A cell whose sharp does not support its Node.js is not built: its engines.node
  # (0.35 declares >=20.9.0; 0.33 and 0.34 ^18.17.0 || ^20.3.0 || >=21.0.0) must admit
  # some Node.js of that major. Plans and manifests list such cells with the reason.
  skip {
    condition = !semver_intersects(lookup(npm_package("sharp", matrix.sharp).engines, "node", "*"), "${matrix.node}.x")
    reason    = "sharp ${matrix.sharp} supports Node.js ${lookup(npm_package("sharp", matrix.sharp).engines, "node", "*")}, not ${matrix.node}"
  }

  image    = format(lookup(var.build_image_per_arch, matrix.arch, var.build_image), matrix.node)
  platform = local.platforms[matrix.arch]
  workdir  = "/build"

  # --cpu, --os and --libc make npm pick sharp's prebuilt binaries for the cell's
  # platform even when the build container runs on another one. The tool writes the
  # steps (README, "The npm block"): a cell without a current entry in matrix.lock.json
  # runs npm install and records package.json and package-lock.json, cut down to the
  # packages this install chose; a cell with one (and every cell under --locked) gets
  # them back and runs npm ci, which installs exactly that tree.
  npm {
    install = ["sharp@${matrix.sharp}"]
    cpu     = matrix.arch
    os      = "linux"
    libc    = "glibc"
  }

  glibc = "2.34"

  artifact = "sharp-${matrix.sharp}-node${matrix.node}-linux-${matrix.arch}.${var.format}"
  timeout  = "20m"
  # AWS Lambda's limits: a function and its layers unzipped at most 250 MiB
  # (262144000 bytes, what max_size bounds: the content's bytes), and a zip uploaded
  # directly at most 50 MiB (larger ones go through S3): a warning, not a failure.
  max_size  = "250MiB"
  warn_size = var.format == "zip" ? "50MiB" : null

  # Load sharp in the Lambda runtime image and resize a generated PNG: proves the native
  # binaries match the runtime's Node.js ABI, CPU and glibc. A zip is a Lambda layer:
  # Lambda unpacks layers into /opt and finds /opt/nodejs/node_modules through
  # NODE_PATH, so the test does the same.
  test {
    image   = format(lookup(var.runtime_image_per_arch, matrix.arch, var.runtime_image), matrix.node)
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
