variable "Bad-Name" {}

variable "good_name" {}

locals {
  CamelLocal = 1
  snake_local = 2
}

locals {
  UPPER_LOCAL = 3
}

resource "a_b" "ok_name" {}

resource "a_b" "Bad" {}

data "x_y" "MixedCase" {}

check "Chk" {
  data "x" "BadData" {}
}

module "My" {
  source = "./m"
}

output "Out" {
  value = 1
}

output "o_ok" {
  value = 2
}
