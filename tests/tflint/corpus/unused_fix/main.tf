# The first variable, unused, with its comment.
variable "first" {}

variable "used" {
  type = string
}

// A comment that goes with it.
# And another.
variable "commented" {
  type    = string
  default = "}"
}

variable "kept_comment" {} # trailing: stays with nothing else on the line

/* A block comment before. */
variable "block_commented" {}


variable "two_blank_lines_above" {}

locals {
  used = var.used
  # about the unused one
  unused_one = 1
  other      = local.used

  last_unused = "x" # note
}

locals { inline_unused = 2 }

data "aws_ami" "unused" {
  most_recent = true
}

provider "aws" {
  alias = "spare"
}

output "o" {
  value       = local.other
  description = "Out."
}
