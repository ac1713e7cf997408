  # a comment
target   "a"   {   # trailing
  image = "x"     // slashes
  /* block */ script = "true"
}
