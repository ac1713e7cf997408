# The output directory's own records and log directory are no artifact's name, in any
# case; format is set, so that the name is the only problem.
target "manifest" {
  image    = "img"
  script   = "true"
  artifact = "manifest.json"
  format   = "zip"
}

target "sums" {
  image    = "img"
  script   = "true"
  artifact = "SHA256SUMS"
  format   = "tar.gz"
}

target "logs" {
  image    = "img"
  script   = "true"
  artifact = "Logs"
  format   = "tar.gz"
}

target "folded" {
  image    = "img"
  script   = "true"
  artifact = "Manifest.JSON"
  format   = "zip"
}
