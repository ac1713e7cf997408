# var-file: sensitive_var_file_json.json
# var-file: sensitive_var_file_quoted.vars
# var-file: sensitive_var_file_block.vars
# var-file: sensitive_var_file_typo.vars
# No line is shown of a var-file that is not a plain list of NAME = value (JSON, a
# quoted name, a block) when the matrix file declares a sensitive variable: which of
# its lines set one is not known. A name it does not declare may be a sensitive one
# mistyped: its line is not shown either.
variable "toks" {
  type      = list(string)
  sensitive = true
  default   = ["x"]
}
target "t" {
  image    = "img"
  script   = "true"
  artifact = "t.tar.gz"
}
