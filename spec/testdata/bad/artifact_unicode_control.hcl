# C1 control characters and Unicode format characters (bidi overrides) are rejected.
target "c1" {
  image    = "img"
  script   = "true"
  artifact = "sharp\u0085.tar.gz"
}
target "bidi" {
  image    = "img"
  script   = "true"
  artifact = "sharp-\u202egz.rat.tar.gz"
}
target "zwsp" {
  image    = "img"
  script   = "true"
  artifact = "sha\u200brp.tar.gz"
}
