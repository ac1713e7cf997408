# better-sqlite3 compiled from source (node-gyp) for scripts/e2e.sh: built in
# local/node-build:22 (python3, make, g++ and node's own headers: scripts/images.sh
# --build), tested in local/node:22, which has no compiler.
#
# better-sqlite3 12's install script first downloads a prebuilt binary (prebuild-install,
# from GitHub); build_from_source skips that. node-gyp then reads the headers from
# npm_config_nodedir instead of downloading them; disturl points at a closed port, so
# that a download attempt fails the build instead of going unnoticed.
variable "better_sqlite3" {
  type    = string
  default = "12.9.0"
}

variable "node" {
  type    = number
  default = 22
}

variable "nodedir" {
  type        = string
  default     = "/usr/local"
  description = "A directory with include/node/common.gypi and the headers of the image's node; empty: node-gyp downloads them (which fails here, as scripts/e2e.sh checks)."
}

variable "ca_bundle" {
  type    = string
  default = "/etc/ssl/certs/ca-certificates.crt"
}

target "better-sqlite3" {
  image   = "local/node-build:${var.node}"
  network = "host"
  workdir = "/build"
  env = {
    NODE_EXTRA_CA_CERTS          = "/etc/ssl/certs/matrix-ca.crt"
    npm_config_update_notifier   = "false"
    npm_config_build_from_source = "true"
    npm_config_nodedir           = var.nodedir
    npm_config_disturl           = "http://127.0.0.1:9"
    JOBS                         = "max" # node-gyp: make -j <cores>
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
  # --foreground-scripts and --loglevel=info put node-gyp's log in the cell's log.
  script   = <<-EOT
    set -eu
    npm install --no-audit --no-fund --omit=dev --foreground-scripts --loglevel=info better-sqlite3@${var.better_sqlite3}
    # Only build/Release/better_sqlite3.node is loaded: drop node-gyp's makefiles,
    # generated sources and object files (18 MB).
    find node_modules/better-sqlite3/build -mindepth 1 ! -path '*/build/Release' ! -path '*/build/Release/better_sqlite3.node' -delete
  EOT
  artifact = "better-sqlite3-${var.better_sqlite3}-node${var.node}-linux-x64.tar.gz"
  timeout  = "20m"

  test {
    image = "local/node:${var.node}"
    env = {
      NODE_PATH = "/test/node_modules"
    }
    script = <<-EOT
      set -eu
      for cc in cc gcc g++ make; do
        if command -v $cc >/dev/null; then echo "the runtime image has $cc" >&2; exit 1; fi
      done
      node -e '
        const Database = require("better-sqlite3");
        const db = new Database(":memory:");
        db.exec("CREATE TABLE t (n INTEGER); INSERT INTO t VALUES (1), (2), (3)");
        const row = db.prepare("SELECT sum(n) AS s, sqlite_version() AS v FROM t").get();
        if (row.s !== 6) { console.error("sum " + row.s + ", want 6"); process.exit(1); }
        console.log("better-sqlite3 compiled from source: SQLite " + row.v + " on node " + process.version + ", sum 6");
      '
    EOT
  }
}
