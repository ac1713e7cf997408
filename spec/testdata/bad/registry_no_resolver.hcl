# resolver: none
# A command that gives no Resolver cannot answer the registry functions.
target "t" {
  matrix = {
    sharp = npm_versions("sharp", ">=0.33", { per = "minor" })
  }
  image    = "img"
  script   = "true"
  artifact = "a-${matrix.sharp}.zip"
}
