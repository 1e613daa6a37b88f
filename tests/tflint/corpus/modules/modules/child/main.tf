variable "name" {}

variable "Undocumented_Child" {
  type = string
}

output "name" {
  value = var.name
}
