target "sharp" {
  image = "node:22"
  artifact_name_long = "sharp-${sharp}.tar.gz"
  matrix = {
    sharp = ["0.34.5"]
    arch = ["x64", "arm64"]
  }
}
