# Source lines and messages are shown with internal/terminal's escapes: an ESC, a C1
# control (U+009B) or a carriage return in a string, a comment or an axis value (in the
# "In cell" line) cannot drive the terminal or forge a line. CRLF line ends are kept.
variable "vals" {
  default = ["c2Jd", "a[2Jb"]
}
target "t" {
  matrix   = { v = var.vals }
  image    = "i]0;TITLE" + 1 # [31m red
  script   = "true"
  env      = { "K[8m" = 1 + "x" } #     forged line
  workdir  = "/w" + matrix.v
  artifact = "t-${index(var.vals, matrix.v)}.tar.gz"
}
