variable "node" {
default = 22
}
target "a" {
	image="node:${var.node}"
        script = <<-EOT
          npm install
        EOT
  matrix = { x = [1,2, 3] }
}
