# Variable values for a machine without an image registry or direct internet access
# (README.md, "matrix.hcl reference"): matrix plan --var-file offline.hcl
#
# local/node:<major> and local/node:<major>-arm64 are stand-ins for the Lambda images,
# built from npm packages by scripts/images.sh (--arm64): an image name holds one
# platform without a registry, so the arm64 ones have their own. arm64 cells run
# under emulation on an x64 machine (scripts/emulation.sh).
build_image            = "local/node:%d"
runtime_image          = "local/node:%d"
build_image_per_arch   = { arm64 = "local/node:%d-arm64" }
runtime_image_per_arch = { arm64 = "local/node:%d-arm64" }

# Containers have no network of their own there: share the host's, which reaches the
# npm registry through a TLS-intercepting proxy whose CA is in the host's bundle.
network   = "host"
ca_bundle = "/etc/ssl/certs/ca-certificates.crt"
