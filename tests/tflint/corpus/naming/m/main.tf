variable "child_Var" {}
