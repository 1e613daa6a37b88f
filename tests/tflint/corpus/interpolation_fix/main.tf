variable "name" {
  type        = string
  description = "A name."
}

locals {
  only   = "${var.name}"
  spaced = "${ var.name }"
  list   = ["${var.name}", "plain"]
  object = { "${var.name}" = "${var.name}" }
  kept   = "x-${var.name}"
}

output "all" {
  value       = [local.only, local.spaced, local.list, local.object, local.kept]
  description = "Everything."
}
