# Endpoints live nowhere here: the local stack copies this directory and adds an override
# file that points every service at the emulator, the way tflocal does.
provider "aws" {
  region = var.region

  default_tags {
    tags = merge({ Project = "ddb2aurora", Stack = var.name_prefix }, var.tags)
  }
}
