# var-file: sensitive_var_file.vars
# var-file: sensitive_var_file_syntax.vars
# var: names={"s3cr3t-option" = ["x"]}
# A var-file's lines that set a sensitive variable are not shown with a diagnostic, nor
# is any line of a var-file that does not parse and names one; conversion errors leave
# out the path into a sensitive value (its map keys). Other lines are shown.
variable "num" {
  type      = number
  sensitive = true
  default   = 1
}
variable "names" {
  type      = map(string)
  sensitive = true
  default   = {}
}
variable "plain" {
  type    = number
  default = 1
}
target "t" {
  image    = "img"
  script   = "true"
  artifact = "t.tar.gz"
}
