################################################################################
# S3 gateway endpoint: the loader and Aurora (LOAD DATA FROM S3) reach the bucket without NAT
################################################################################

resource "aws_vpc_endpoint" "s3" {
  count = var.create_s3_endpoint ? 1 : 0

  vpc_id            = local.vpc_id
  service_name      = "com.amazonaws.${data.aws_region.current.name}.s3"
  vpc_endpoint_type = "Gateway"
  route_table_ids   = local.route_table_ids

  tags = merge(var.tags, { Name = "${var.name}-s3" })
}

################################################################################
# Secrets Manager interface endpoint: the loader reads the database secret without NAT
################################################################################

resource "aws_vpc_endpoint" "secretsmanager" {
  count = var.create_secretsmanager_endpoint ? 1 : 0

  vpc_id              = local.vpc_id
  service_name        = "com.amazonaws.${data.aws_region.current.name}.secretsmanager"
  vpc_endpoint_type   = "Interface"
  subnet_ids          = local.subnet_ids
  security_group_ids  = [aws_security_group.endpoints[0].id]
  private_dns_enabled = true

  tags = merge(var.tags, { Name = "${var.name}-secretsmanager" })
}

################################################################################
# SSM interface endpoint: the functions read the table mapping (TABLE_MAPPING_PARAMETER)
# from Parameter Store at start, without NAT
################################################################################

resource "aws_vpc_endpoint" "ssm" {
  count = var.create_ssm_endpoint ? 1 : 0

  vpc_id              = local.vpc_id
  service_name        = "com.amazonaws.${data.aws_region.current.name}.ssm"
  vpc_endpoint_type   = "Interface"
  subnet_ids          = local.subnet_ids
  security_group_ids  = [aws_security_group.endpoints[0].id]
  private_dns_enabled = true

  tags = merge(var.tags, { Name = "${var.name}-ssm" })
}

locals {
  create_endpoints_security_group = var.create_secretsmanager_endpoint || var.create_ssm_endpoint
}

# With private DNS the endpoint answers for every client in the VPC, so HTTPS is open to
# the VPC's CIDR block rather than to the loader alone.
resource "aws_security_group" "endpoints" {
  count = local.create_endpoints_security_group ? 1 : 0

  name_prefix = "${var.name}-endpoints-"
  description = "HTTPS from the VPC to the ${var.name} interface endpoints"
  vpc_id      = local.vpc_id

  tags = merge(var.tags, { Name = "${var.name}-endpoints" })

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_ingress_rule" "endpoints_https" {
  count = local.create_endpoints_security_group ? 1 : 0

  security_group_id = aws_security_group.endpoints[0].id
  description       = "HTTPS from the VPC"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = local.vpc_cidr_block

  tags = var.tags
}
