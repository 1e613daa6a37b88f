variable "child_unused" {}
