################################################################################
# Loader and Aurora security groups: only the loader reaches Aurora, only on its port
################################################################################

# The AWS-managed prefix list of S3 in this region: the destination of the gateway endpoint routes.
data "aws_prefix_list" "s3" {
  count = var.create_security_groups ? 1 : 0

  name = "com.amazonaws.${data.aws_region.current.name}.s3"
}

resource "aws_security_group" "loader" {
  #checkov:skip=CKV2_AWS_5:attached to the aurora_loader function by the loader module (output loader_security_group_id)
  count = var.create_security_groups ? 1 : 0

  name_prefix = "${var.name}-loader-"
  description = "aurora_loader Lambda: egress to Aurora, S3 and the VPC endpoints only"
  vpc_id      = local.vpc_id

  tags = merge(var.tags, { Name = "${var.name}-loader" })

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_egress_rule" "loader_to_aurora" {
  count = var.create_security_groups ? 1 : 0

  security_group_id            = aws_security_group.loader[0].id
  description                  = "MySQL to Aurora"
  ip_protocol                  = "tcp"
  from_port                    = var.aurora_port
  to_port                      = var.aurora_port
  referenced_security_group_id = aws_security_group.aurora[0].id

  tags = var.tags
}

resource "aws_vpc_security_group_egress_rule" "loader_to_s3" {
  count = var.create_security_groups ? 1 : 0

  security_group_id = aws_security_group.loader[0].id
  description       = "HTTPS to S3 through the gateway endpoint"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  prefix_list_id    = data.aws_prefix_list.s3[0].id

  tags = var.tags
}

resource "aws_vpc_security_group_egress_rule" "loader_to_endpoints" {
  count = var.create_security_groups ? 1 : 0

  security_group_id = aws_security_group.loader[0].id
  description       = "HTTPS to the interface endpoints (Secrets Manager) in the VPC"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = local.vpc_cidr_block

  tags = var.tags
}

resource "aws_security_group" "aurora" {
  #checkov:skip=CKV2_AWS_5:attached to the Aurora cluster by the aurora module (output aurora_security_group_id)
  count = var.create_security_groups ? 1 : 0

  name_prefix = "${var.name}-aurora-"
  description = "Aurora MySQL: ${var.aurora_port} from the loader only; HTTPS to S3 for LOAD DATA FROM S3"
  vpc_id      = local.vpc_id

  tags = merge(var.tags, { Name = "${var.name}-aurora" })

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_ingress_rule" "aurora_from_loader" {
  count = var.create_security_groups ? 1 : 0

  security_group_id            = aws_security_group.aurora[0].id
  description                  = "MySQL from the loader"
  ip_protocol                  = "tcp"
  from_port                    = var.aurora_port
  to_port                      = var.aurora_port
  referenced_security_group_id = aws_security_group.loader[0].id

  tags = var.tags
}

resource "aws_vpc_security_group_egress_rule" "aurora_to_s3" {
  count = var.create_security_groups ? 1 : 0

  security_group_id = aws_security_group.aurora[0].id
  description       = "HTTPS to S3 through the gateway endpoint (LOAD DATA FROM S3)"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  prefix_list_id    = data.aws_prefix_list.s3[0].id

  tags = var.tags
}
