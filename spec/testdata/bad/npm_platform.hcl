# cpu, os and libc take npm's names (x64, linux, glibc), omit npm's dependency types.
target "docker_names" {
  matrix   = { arch = ["amd64", "x64"] }
  image    = "img"
  artifact = "docker_names-${matrix.arch}.tar.gz"
  npm {
    install = ["sharp@0.34.5"]
    cpu     = matrix.arch
    os      = "windows"
    libc    = "gnu"
  }
}

target "omit" {
  image    = "img"
  artifact = "omit.tar.gz"
  npm {
    install           = ["sharp@0.34.5"]
    omit              = ["dev", "devDependencies", "dev"]
    build_from_source = "sometimes"
    libc              = 1
  }
}
