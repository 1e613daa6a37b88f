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
  noted  = "${var.name}"      # a comment aligned with the next
  after  = "x-${var.name}-yz" # which moves when the line above shrinks
}

output "all" {
  value       = [local.only, local.spaced, local.list, local.object, local.kept, local.noted, local.after]
  description = "Everything."
}
