################################################################################
# KMS key for storage, the managed master secret and Performance Insights
################################################################################

# The account's default key policy, written out: IAM policies of the account govern use of the key.
data "aws_iam_policy_document" "kms" {
  # A key policy's Resource "*" is the key itself, and the account root statement is AWS's default key policy:
  #checkov:skip=CKV_AWS_109:key policy, not an identity policy; access is governed by the account's IAM policies
  #checkov:skip=CKV_AWS_111:key policy, not an identity policy; access is governed by the account's IAM policies
  #checkov:skip=CKV_AWS_356:in a key policy Resource "*" means this key only
  count = var.create && var.create_kms_key ? 1 : 0

  statement {
    sid       = "AccountAdministersKeyThroughIam"
    actions   = ["kms:*"]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = ["arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root"]
    }
  }
}

resource "aws_kms_key" "this" {
  count = var.create && var.create_kms_key ? 1 : 0

  description             = "ddb2aurora ${var.name}: Aurora storage, master secret, Performance Insights"
  enable_key_rotation     = true
  deletion_window_in_days = var.kms_key_deletion_window_in_days
  policy                  = data.aws_iam_policy_document.kms[0].json

  tags = var.tags
}

resource "aws_kms_alias" "this" {
  count = var.create && var.create_kms_key ? 1 : 0

  name          = "alias/${var.name}-aurora"
  target_key_id = aws_kms_key.this[0].key_id
}
