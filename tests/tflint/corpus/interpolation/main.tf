variable "name" {
  type        = string
  description = "A name."
}

variable "key" {
  type        = string
  description = "A key."
}

locals {
  only      = "${var.name}"
  spaced    = "${ var.name }"
  stripped  = "${~var.name~}"
  prefixed  = "x-${var.name}"
  two       = "${var.name}${var.key}"
  list      = ["${var.name}", "plain"]
  object    = { "${var.key}" = "${var.name}" }
  nested    = "${"${var.name}"}"
  directive = "%{if var.name != ""}yes%{endif}"
  heredoc   = <<EOT
${var.name}
EOT
  call      = upper("${var.name}")
}

resource "null_resource" "r" {
  triggers = {
    name = "${var.name}"
  }

  provisioner "local-exec" {
    command = "${var.key}"
  }
}

output "all" {
  value       = [local.only, local.spaced, local.stripped, local.prefixed, local.two, local.list]
  description = "Everything."
}
