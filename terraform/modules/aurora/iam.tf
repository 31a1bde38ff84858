################################################################################
# Role for LOAD DATA FROM S3: read the delivery bucket's loadable objects only
################################################################################

data "aws_iam_policy_document" "s3_load_assume" {
  count = var.create && var.create_s3_load_role ? 1 : 0

  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["rds.amazonaws.com"]
    }
  }
}

data "aws_iam_policy_document" "s3_load" {
  count = var.create && var.create_s3_load_role ? 1 : 0

  lifecycle {
    precondition {
      condition     = var.delivery_bucket_arn != null
      error_message = "create_s3_load_role = true needs delivery_bucket_arn."
    }
  }

  statement {
    sid       = "ReadLoadableObjects"
    actions   = ["s3:GetObject"]
    resources = ["${var.delivery_bucket_arn}/${var.delivery_object_prefix}*"]
  }

  statement {
    sid       = "ListLoadableObjects"
    actions   = ["s3:ListBucket"]
    resources = [var.delivery_bucket_arn]

    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["${var.delivery_object_prefix}*"]
    }
  }

  dynamic "statement" {
    for_each = var.delivery_bucket_kms_key_arn == null ? [] : [var.delivery_bucket_kms_key_arn]

    content {
      sid       = "DecryptLoadableObjects"
      actions   = ["kms:Decrypt"]
      resources = [statement.value]
    }
  }
}

resource "aws_iam_role" "s3_load" {
  count = var.create && var.create_s3_load_role ? 1 : 0

  name_prefix        = "${substr(var.name, 0, 26)}-s3-load-"
  description        = "Aurora ${var.name}: LOAD DATA FROM S3 of the delivery bucket"
  assume_role_policy = data.aws_iam_policy_document.s3_load_assume[0].json

  tags = var.tags
}

resource "aws_iam_role_policy" "s3_load" {
  count = var.create && var.create_s3_load_role ? 1 : 0

  name   = "read-delivery-bucket"
  role   = aws_iam_role.s3_load[0].id
  policy = data.aws_iam_policy_document.s3_load[0].json
}

# Aurora MySQL takes no feature name for this association.
resource "aws_rds_cluster_role_association" "s3_load" {
  count = var.create && var.create_s3_load_role ? 1 : 0

  db_cluster_identifier = aws_rds_cluster.this[0].id
  role_arn              = aws_iam_role.s3_load[0].arn
  feature_name          = ""
}

################################################################################
# Enhanced Monitoring role
################################################################################

locals {
  create_monitoring_role = var.create && var.monitoring_interval > 0 && var.create_monitoring_role
  monitoring_role_arn    = local.create_monitoring_role ? try(aws_iam_role.monitoring[0].arn, null) : var.monitoring_role_arn
  # Enhanced Monitoring writes to this fixed log group.
  rds_metrics_log_group_arn = "arn:${data.aws_partition.current.partition}:logs:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:log-group:RDSOSMetrics"
}

data "aws_iam_policy_document" "monitoring_assume" {
  count = local.create_monitoring_role ? 1 : 0

  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["monitoring.rds.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "monitoring" {
  count = local.create_monitoring_role ? 1 : 0

  name_prefix        = "${substr(var.name, 0, 25)}-monitoring-"
  description        = "Aurora ${var.name}: Enhanced Monitoring"
  assume_role_policy = data.aws_iam_policy_document.monitoring_assume[0].json

  tags = var.tags
}

# What the AWS-managed AmazonRDSEnhancedMonitoringRole grants, scoped to this account and region
# (written out, so it also works where managed policies are absent, as in moto).
data "aws_iam_policy_document" "monitoring" {
  count = local.create_monitoring_role ? 1 : 0

  statement {
    sid       = "ManageRdsMetricsLogGroup"
    actions   = ["logs:CreateLogGroup", "logs:PutRetentionPolicy"]
    resources = ["${local.rds_metrics_log_group_arn}:*"]
  }

  statement {
    sid       = "WriteRdsMetricsLogStreams"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams", "logs:GetLogEvents"]
    resources = ["${local.rds_metrics_log_group_arn}:log-stream:*"]
  }
}

resource "aws_iam_role_policy" "monitoring" {
  count = local.create_monitoring_role ? 1 : 0

  name   = "enhanced-monitoring"
  role   = aws_iam_role.monitoring[0].id
  policy = data.aws_iam_policy_document.monitoring[0].json
}
