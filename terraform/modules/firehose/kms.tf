data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

# A key policy's "*" resource means this key, and the account-root statement is the policy AWS
# writes by default (IAM policies then scope every use, as the roles here do).
data "aws_iam_policy_document" "kms" {
  #checkov:skip=CKV_AWS_111:Key policy: the resource is the key itself; write access is granted to this account's IAM only.
  #checkov:skip=CKV_AWS_356:Key policy: "*" is the only valid resource and means this key.
  #checkov:skip=CKV_AWS_109:Key policy: the account root keeps key administration so the key cannot become unmanageable.
  count = var.create_kms_key ? 1 : 0

  # IAM policies in this account decide who uses the key (the Firehose role, Aurora's S3 role,
  # the functions). Without this statement the key could lock everyone out.
  statement {
    sid       = "EnableIamPolicies"
    actions   = ["kms:*"]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = ["arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root"]
    }
  }

  statement {
    sid = "CloudWatchLogsEncryptsLogGroups"
    actions = [
      "kms:Encrypt",
      "kms:Decrypt",
      "kms:ReEncryptFrom",
      "kms:ReEncryptTo",
      "kms:GenerateDataKey",
      "kms:GenerateDataKeyWithoutPlaintext",
      "kms:DescribeKey",
    ]
    resources = ["*"]

    principals {
      type        = "Service"
      identifiers = ["logs.${data.aws_region.current.name}.amazonaws.com"]
    }

    condition {
      test     = "ArnLike"
      variable = "kms:EncryptionContext:aws:logs:arn"
      values   = ["arn:${data.aws_partition.current.partition}:logs:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:log-group:*"]
    }
  }
}

resource "aws_kms_key" "this" {
  count = var.create_kms_key ? 1 : 0

  description             = "ddb2aurora ${var.name}: pipeline data (table, delivery stream, bucket) and log groups"
  enable_key_rotation     = true
  deletion_window_in_days = var.kms_key_deletion_window_in_days
  policy                  = data.aws_iam_policy_document.kms[0].json
  tags                    = var.tags
}

resource "aws_kms_alias" "this" {
  count = var.create_kms_key ? 1 : 0

  name          = "alias/${var.name}-delivery"
  target_key_id = aws_kms_key.this[0].key_id
}
