terraform {
  required_providers {}
}

# A second terraform block in the same file: the rule points at the first. (Across files TFLint
# itself returns the blocks in no fixed order, so the corpus keeps them in one file.)
terraform {
  backend "local" {}
}
