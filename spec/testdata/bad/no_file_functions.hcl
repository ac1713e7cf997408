target "t" {
  image    = file("/etc/hostname")
  script   = env("HOME")
  artifact = "a.tar.gz"
}
