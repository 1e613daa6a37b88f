variable "untyped" {}

variable "Typed_Bad" {
  type        = string
  description = ""
}

variable "heredoc_empty" {
  type        = string
  description = <<EOT
EOT
}

variable "heredoc_indented" {
  type        = number
  description = <<-EOT
    How many.
  EOT
}

variable "described" {
  type        = bool
  description = "Whether it is on."
}

variable "numbered" {
  description = 42
}

output "undocumented" {
  value = var.untyped
}

output "empty" {
  value       = 1
  description = ""
}

output "documented" {
  value       = var.described
  description = "The switch."
}

locals {
  names = ["a", "b"]
}
