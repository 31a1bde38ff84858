locals {
  queue_arn = var.create ? try(aws_sqs_queue.this[0].arn, null) : var.existing_queue_arn
  queue_url = var.create ? try(aws_sqs_queue.this[0].url, null) : var.existing_queue_url
}

# SSE-KMS with the given key, else SQS managed encryption (SSE-SQS): never unencrypted.
resource "aws_sqs_queue" "this" {
  count = var.create ? 1 : 0

  name                      = var.name
  message_retention_seconds = var.message_retention_seconds
  kms_master_key_id         = var.kms_key_arn
  sqs_managed_sse_enabled   = var.kms_key_arn == null ? true : null
  tags                      = var.tags
}
