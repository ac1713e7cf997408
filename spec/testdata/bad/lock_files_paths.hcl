# lock_files are clean paths inside the workdir: no control character (a NUL fails
# only when the run writes the file), no ~ (not expanded), no .. part even when it
# cleans to a path inside; and no package manager's configuration, which would carry
# a registry token into the committed lock and redirect the next --locked install.
target "t" {
  image      = "img"
  script     = "npm ci"
  artifact   = "t.tar.gz"
  lock_files = ["a\u0000b", "b\u202ec.json", "~/.npmrc", "sub/../package.json", "./package.json", "sub//x.json"]
}

target "u" {
  image      = "img"
  script     = "npm ci"
  artifact   = "u.tar.gz"
  lock_files = [".npmrc", "app/.npmrc", ".yarnrc.yml", ".yarnrc", ".pnpmfile.cjs", "bunfig.toml", "npmrc.json"]
}
