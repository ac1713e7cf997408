# Ranges, versions and package names are checked before the registry is asked; a
# syntax error says where in the string it is.
locals {
  bad_range    = npm_versions("sharp", ">=1.2.3 <=2.0.0.0")
  bad_name     = npm_versions("Sharp Lib", "*")
  bad_version  = npm_package("sharp", "0.33")
  satisfies    = semver_satisfies("1.2", "^1")
  satisfies_r  = semver_satisfies("1.2.3", "^1 ||| 2")
  intersects   = semver_intersects(">=20.9.0", "22.x.y")
  sorted       = semver_sort(["1.0.0", "0.9", "2.0.0"])
  major        = semver_major("v")
  wrong_type   = semver_minor(["1.2.3"])
}

target "t" {
  image    = "img"
  script   = "true"
  artifact = "a.zip"
}
