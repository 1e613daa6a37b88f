variable "used" {
  type = string
}

variable "unused" {
  type = string
}

variable "self_validated" {
  type = string

  validation {
    condition     = length(var.self_validated) > 0
    error_message = "Must not be empty."
  }
}

variable "v2" {
  type = string
}

variable "w" {
  type = string

  validation {
    condition     = var.v2 != var.w
    error_message = "Must differ from ${var.w}."
  }
}

locals {
  used_local     = var.used
  unused_local   = "x"
  self_ref       = local.self_ref_other
  self_ref_other = local.self_ref
  l3             = local.l3x
  from_for       = [for item in var.list_in_for : item]
}

variable "list_in_for" {
  type = list(string)
}

data "aws_ami" "used" {}

data "aws_ami" "unused" {}

data "aws_ami" "indexed" {
  count = 1
}

check "health" {
  data "http" "nested_unused" {
    url = "https://example.com"
  }

  assert {
    condition     = true
    error_message = "Never."
  }
}

provider "aws" {
  alias = "west"
}

provider "aws" {
  alias = "east"
}

provider "aws" {
  alias = "north"
}

provider "aws" {}

resource "null_resource" "r" {
  provider = aws.east
  triggers = {
    ami   = data.aws_ami.used.id
    index = data.aws_ami.indexed[0].id
    local = local.used_local
  }
}

module "m" {
  source = "./m"
  providers = {
    aws = aws.west
  }
}

output "o" {
  value       = [local.l3, local.from_for]
  description = "Out."
}
