################################################################################
# SNS topic for the alarms, encrypted with a key CloudWatch may use
################################################################################

locals {
  create_sns_kms_key = var.create_sns_topic && var.create_sns_kms_key
}

data "aws_partition" "current" {
  count = local.create_sns_kms_key ? 1 : 0
}

data "aws_caller_identity" "current" {
  count = local.create_sns_kms_key ? 1 : 0
}

data "aws_iam_policy_document" "sns_kms" {
  # A key policy's Resource "*" is the key itself, and the account root statement is AWS's default key policy:
  #checkov:skip=CKV_AWS_109:key policy, not an identity policy; access is governed by the account's IAM policies
  #checkov:skip=CKV_AWS_111:key policy, not an identity policy; access is governed by the account's IAM policies
  #checkov:skip=CKV_AWS_356:in a key policy Resource "*" means this key only
  count = local.create_sns_kms_key ? 1 : 0

  statement {
    sid       = "AccountAdministersKeyThroughIam"
    actions   = ["kms:*"]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = ["arn:${data.aws_partition.current[0].partition}:iam::${data.aws_caller_identity.current[0].account_id}:root"]
    }
  }

  statement {
    sid       = "CloudWatchAlarmsPublishToEncryptedTopic"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey*"]
    resources = ["*"]

    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current[0].account_id]
    }
  }
}

resource "aws_kms_key" "sns" {
  count = local.create_sns_kms_key ? 1 : 0

  description             = "ddb2aurora ${var.name}: alarm topic"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy                  = data.aws_iam_policy_document.sns_kms[0].json

  tags = var.tags
}

resource "aws_sns_topic" "this" {
  count = var.create_sns_topic ? 1 : 0

  name              = "${var.name}-alarms"
  kms_master_key_id = local.create_sns_kms_key ? aws_kms_key.sns[0].arn : var.sns_kms_key_arn

  tags = var.tags

  lifecycle {
    precondition {
      condition     = var.create_sns_kms_key || var.sns_kms_key_arn != null
      error_message = "create_sns_kms_key = false needs sns_kms_key_arn (the topic is always encrypted)."
    }
  }
}
