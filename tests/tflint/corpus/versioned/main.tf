terraform {
  required_version = ">= 1.5"
}

variable "typed" {
  type        = string
  description = "Typed and documented."
}

output "typed" {
  value       = var.typed
  description = "The typed variable."
}
