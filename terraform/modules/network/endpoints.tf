data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

################################################################################
# Endpoint policies: what the pipeline calls through each endpoint, by principals of this
# account only. Without a policy AWS attaches full access (Action, Principal, Resource "*");
# IAM still scopes every call, the endpoint policy is the network perimeter on top of it.
################################################################################

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.name

  # Calls through the endpoints must come from a principal of this account.
  same_account = { "aws:PrincipalAccount" = local.account_id }

  # Given buckets, or (empty) any bucket this account owns (s3:ResourceAccount: bucket ARNs
  # carry no account id).
  s3_bucket_arns     = length(var.s3_endpoint_bucket_arns) > 0 ? var.s3_endpoint_bucket_arns : ["arn:${local.partition}:s3:::*"]
  s3_bucket_scope    = length(var.s3_endpoint_bucket_arns) > 0 ? {} : { "s3:ResourceAccount" = local.account_id }
  s3_read_conditions = { StringEquals = merge(local.same_account, local.s3_bucket_scope) }

  # Given secrets and parameters, or (empty) those of this account in this region.
  secret_arns    = length(var.secretsmanager_endpoint_secret_arns) > 0 ? var.secretsmanager_endpoint_secret_arns : ["arn:${local.partition}:secretsmanager:${local.region}:${local.account_id}:secret:*"]
  parameter_arns = length(var.ssm_endpoint_parameter_arns) > 0 ? var.ssm_endpoint_parameter_arns : ["arn:${local.partition}:ssm:${local.region}:${local.account_id}:parameter/*"]

  default_endpoint_policies = {
    # The loader's GetObject (aurora_loader, adapters/s3.py) and Aurora's LOAD DATA FROM S3
    # through its cluster role (s3:GetObject, s3:ListBucket as the aurora module grants).
    s3 = jsonencode({
      Version = "2012-10-17"
      Statement = [
        {
          Sid       = "ReadObjects"
          Effect    = "Allow"
          Principal = "*"
          Action    = ["s3:GetObject"]
          Resource  = [for arn in local.s3_bucket_arns : "${arn}/*"]
          Condition = local.s3_read_conditions
        },
        {
          Sid       = "ListBuckets"
          Effect    = "Allow"
          Principal = "*"
          Action    = ["s3:ListBucket"]
          Resource  = local.s3_bucket_arns
          Condition = local.s3_read_conditions
        },
      ]
    })

    # The loader's database secret (adapters/secrets.py).
    secretsmanager = jsonencode({
      Version = "2012-10-17"
      Statement = [{
        Sid       = "ReadSecrets"
        Effect    = "Allow"
        Principal = "*"
        Action    = ["secretsmanager:GetSecretValue"]
        Resource  = local.secret_arns
        Condition = { StringEquals = local.same_account }
      }]
    })

    # The table mapping parameter (adapters/ssm.py, TABLE_MAPPING_PARAMETER).
    ssm = jsonencode({
      Version = "2012-10-17"
      Statement = [{
        Sid       = "ReadParameters"
        Effect    = "Allow"
        Principal = "*"
        Action    = ["ssm:GetParameter"]
        Resource  = local.parameter_arns
        Condition = { StringEquals = local.same_account }
      }]
    })
  }

  endpoint_policies = {
    s3             = coalesce(var.s3_endpoint_policy, local.default_endpoint_policies.s3)
    secretsmanager = coalesce(var.secretsmanager_endpoint_policy, local.default_endpoint_policies.secretsmanager)
    ssm            = coalesce(var.ssm_endpoint_policy, local.default_endpoint_policies.ssm)
  }
}

################################################################################
# S3 gateway endpoint: the loader and Aurora (LOAD DATA FROM S3) reach the bucket without NAT
################################################################################

resource "aws_vpc_endpoint" "s3" {
  count = var.create_s3_endpoint ? 1 : 0

  vpc_id            = local.vpc_id
  service_name      = "com.amazonaws.${data.aws_region.current.name}.s3"
  vpc_endpoint_type = "Gateway"
  route_table_ids   = local.route_table_ids
  policy            = local.endpoint_policies.s3

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
  policy              = local.endpoint_policies.secretsmanager

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
  policy              = local.endpoint_policies.ssm

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
