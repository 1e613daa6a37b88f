module "good" {
  source  = "hashicorp/consul/aws"
  version = ">= 0.1, < 2.0"
}

module "latest" {
  source  = "hashicorp/consul/aws"
  version = "latest"
}

module "unpinned" {
  source = "git::https://example.com/vpc.git"
}

module "words" {
  source  = "hashicorp/vault/aws"
  version = "one point oh"
}
