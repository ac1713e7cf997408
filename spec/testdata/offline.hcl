# Variable values for a machine without an image registry or direct internet access
# (README.md, "matrix.hcl reference"): matrix plan --var-file offline.hcl
#
# local/node:<major> are stand-ins for the Lambda images, built from npm packages by
# scripts/images.sh; they are x64 only.
build_image   = "local/node:%d"
runtime_image = "local/node:%d"
archs         = ["x64"]

# Containers have no network of their own there: share the host's, which reaches the
# npm registry through a TLS-intercepting proxy whose CA is in the host's bundle.
network   = "host"
ca_bundle = "/etc/ssl/certs/ca-certificates.crt"
