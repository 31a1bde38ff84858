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

resource "aws_iam_role_policy_attachment" "monitoring" {
  count = local.create_monitoring_role ? 1 : 0

  role       = aws_iam_role.monitoring[0].name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"
}
