data "aws_region" "current" {}

data "aws_availability_zones" "available" {
  count = var.create_vpc && length(var.azs) == 0 ? 1 : 0

  state = "available"
}

# The existing VPC's CIDR block: interface endpoints and the loader's HTTPS egress are scoped to it.
data "aws_vpc" "existing" {
  count = var.create_vpc ? 0 : 1

  id = var.vpc_id
}

locals {
  azs = length(var.azs) > 0 ? var.azs : try(data.aws_availability_zones.available[0].names, [])

  vpc_id          = var.create_vpc ? try(aws_vpc.this[0].id, null) : var.vpc_id
  vpc_cidr_block  = var.create_vpc ? var.vpc_cidr : try(data.aws_vpc.existing[0].cidr_block, null)
  subnet_ids      = var.create_vpc ? aws_subnet.private[*].id : var.private_subnet_ids
  route_table_ids = var.create_vpc ? aws_route_table.private[*].id : var.route_table_ids
}

################################################################################
# VPC with private subnets only: no internet gateway, no NAT; AWS APIs through endpoints
################################################################################

resource "aws_vpc" "this" {
  count = var.create_vpc ? 1 : 0

  cidr_block           = var.vpc_cidr
  enable_dns_support   = true
  enable_dns_hostnames = true # required for the interface endpoint's private DNS

  tags = merge(var.tags, { Name = var.name })
}

# Lock down the default security group so nothing lands in an allow-all group by accident.
resource "aws_default_security_group" "this" {
  count = var.create_vpc ? 1 : 0

  vpc_id = aws_vpc.this[0].id

  tags = merge(var.tags, { Name = "${var.name}-default" })
}

resource "aws_subnet" "private" {
  count = var.create_vpc ? length(var.private_subnet_cidrs) : 0

  vpc_id            = aws_vpc.this[0].id
  cidr_block        = var.private_subnet_cidrs[count.index]
  availability_zone = element(local.azs, count.index)

  tags = merge(var.tags, { Name = "${var.name}-private-${element(local.azs, count.index)}" })

  lifecycle {
    precondition {
      condition     = length(distinct(slice(local.azs, 0, min(length(local.azs), length(var.private_subnet_cidrs))))) >= 2
      error_message = "The private subnets must span at least two Availability Zones: give two or more distinct azs."
    }
  }
}

resource "aws_route_table" "private" {
  count = var.create_vpc ? 1 : 0

  vpc_id = aws_vpc.this[0].id

  tags = merge(var.tags, { Name = "${var.name}-private" })
}

resource "aws_route_table_association" "private" {
  count = var.create_vpc ? length(var.private_subnet_cidrs) : 0

  subnet_id      = aws_subnet.private[count.index].id
  route_table_id = aws_route_table.private[0].id
}
