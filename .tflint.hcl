# tflint configuration for every Terraform directory of the project (make tflint runs it
# in terraform/, each module and each example). tflint is optional locally: `make tflint`
# skips with a message when it is not installed.
config {
  # Check the local modules the root stack and the examples call, with their arguments.
  call_module_type = "local"
}

plugin "terraform" {
  enabled = true
  preset  = "recommended"
}

plugin "aws" {
  enabled = true
  version = "0.38.0"
  source  = "github.com/terraform-linters/tflint-ruleset-aws"
}
