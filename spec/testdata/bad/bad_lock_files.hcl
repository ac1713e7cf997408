target "t" {
  image      = "img"
  script     = "npm ci"
  artifact   = "t.tar.gz"
  lock_files = ["package.json", "../outside.json", "/etc/passwd", "package.json"]
}

target "u" {
  image       = "img"
  script      = "true"
  artifact    = "u.tar.gz"
  lock_files  = "package-lock.json"
  cross_built = "yes please"
}
