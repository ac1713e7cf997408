# Functions whose result can outgrow their arguments refuse, at the call, a result
# over the bounds: setproduct more elements than a plan has cells, a string of more
# than 16 MiB (a width, a count of spaces, a replacement repeated many times). cty's
# range() stops at 1,024 numbers itself.
locals {
  product = setproduct(range(1000), range(1000))
  padded  = format("%999999999s", "")
  listed  = formatlist("%100000s", range(1000))
  indent  = indent(999999999, "a\nb")
  spaced  = replace(format("%10000s", ""), "", format("%10000s", ""))
  regex   = regex_replace(format("%10000s", ""), "", format("%10000s", ""))
  joined  = join(format("%20000s", ""), [for i in range(1000) : "x"])
  counted = range(1e9)
  fine    = [setproduct(range(100), range(1000))[0], format("%-8s|", "ok"), indent(2, "a\nb")]
}
target "t" {
  image    = "img"
  script   = "true"
  artifact = "a.tar.gz"
}
