target "t" {
  image      = "img"
  script     = "true"
  artifact   = "a.tar.gz"
  libc       = "uclibc"
  glibc      = "2.x"
  elf_ignore = ["/abs/*", "a/../b", "[", "ok/*", "ok/*", ""]
}

target "u" {
  image    = "img"
  artifact = "b.tar.gz"
  libc     = "glibc"
  npm {
    install = ["sharp@0.34.5"]
    libc    = "musl"
  }
}

target "v" {
  image    = "img"
  script   = "true"
  artifact = "c.tar.gz"
  libc     = "musl"
  glibc    = "2.34"
}
