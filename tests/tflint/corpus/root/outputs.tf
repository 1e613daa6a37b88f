output "second_file" {
  value = local.names
}

variable "ünïcode_name" {
  description = "Columns count characters."
}
