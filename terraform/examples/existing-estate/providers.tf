provider "aws" {
  region = var.region

  default_tags {
    tags = { Project = "ddb2aurora", Stack = var.name_prefix }
  }
}
