# Every key of npm_versions' options is checked, at the options argument.
locals {
  unknown_key  = npm_versions("sharp", "*", { per = "minor", newest = 2 })
  bad_per      = npm_versions("sharp", "*", { per = "minr" })
  zero_last    = npm_versions("sharp", "*", { last = 0 })
  half_last    = npm_versions("sharp", "*", { last = 1.5 })
  string_bool  = npm_versions("sharp", "*", { prerelease = "yes" })
  list_bool    = npm_versions("sharp", "*", { deprecated = [true] })
  bad_age      = npm_versions("sharp", "*", { min_age = "3 days" })
  negative_age = npm_versions("sharp", "*", { min_age = "-1h" })
  not_object   = npm_versions("sharp", "*", "minor")
  four_args    = npm_versions("sharp", "*", {}, {})
}

target "t" {
  image    = "img"
  script   = "true"
  artifact = "a.zip"
}
