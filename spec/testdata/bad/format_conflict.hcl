target "t" {
  image    = "img"
  script   = "true"
  artifact = "sharp.zip"
  format   = "tar.gz"
}

target "u" {
  image    = "img"
  script   = "true"
  artifact = "sharp.7z"
  format   = "7z"
}
