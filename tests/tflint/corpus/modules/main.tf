terraform {
  required_version = ">= 1.6"
}

variable "regions" {
  type        = list(string)
  description = "Where."
}

module "counted" {
  source = "./modules/child"
  count  = 2
  name   = "c${count.index}"
}

module "each" {
  source   = "./modules/child"
  for_each = toset(var.regions)
  name     = each.key
}

output "names" {
  value = module.counted[*].name
}
