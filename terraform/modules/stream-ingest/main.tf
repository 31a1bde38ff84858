locals {
  table_name = var.create_table ? aws_dynamodb_table.this[0].name : var.table_name
  stream_arn = var.create_table ? aws_dynamodb_table.this[0].stream_arn : var.stream_arn
  # A stream ARN is the table ARN followed by /stream/<label>.
  table_arn = var.create_table ? aws_dynamodb_table.this[0].arn : replace(var.stream_arn, "/\\/stream\\/.*$/", "")

  key_attributes = concat([var.hash_key], var.range_key == null ? [] : [var.range_key])
}

################################################################################
# DynamoDB table with its stream
################################################################################

resource "aws_dynamodb_table" "this" {
  #checkov:skip=CKV_AWS_119:The customer managed key is an input (table_kms_key_arn); the root stack passes one, and the AWS owned key remains the module default.
  count = var.create_table ? 1 : 0

  name                        = var.table_name
  billing_mode                = var.billing_mode
  read_capacity               = var.billing_mode == "PROVISIONED" ? var.provisioned_capacity.read : null
  write_capacity              = var.billing_mode == "PROVISIONED" ? var.provisioned_capacity.write : null
  hash_key                    = var.hash_key.name
  range_key                   = try(var.range_key.name, null)
  stream_enabled              = true
  stream_view_type            = "NEW_AND_OLD_IMAGES"
  deletion_protection_enabled = var.deletion_protection

  dynamic "attribute" {
    for_each = local.key_attributes
    content {
      name = attribute.value.name
      type = attribute.value.type
    }
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = var.table_kms_key_arn != null
    kms_key_arn = var.table_kms_key_arn
  }

  dynamic "ttl" {
    for_each = var.ttl_attribute_name == null ? [] : [var.ttl_attribute_name]
    content {
      enabled        = true
      attribute_name = ttl.value
    }
  }

  tags = var.tags
}

################################################################################
# Dead-letter queue
################################################################################

module "dead_letter_queue" {
  source = "../dead-letter-queue"

  create                    = var.create_dead_letter_queue
  name                      = "${var.name}-stream-dlq"
  existing_queue_arn        = var.dead_letter_queue_arn
  existing_queue_url        = var.dead_letter_queue_url
  kms_key_arn               = var.dead_letter_queue_kms_key_arn
  message_retention_seconds = var.dead_letter_queue_message_retention_seconds
  tags                      = var.tags
}

################################################################################
# stream_processor function
################################################################################

module "function" {
  source = "../lambda-function"

  function_name                  = "${var.name}-stream-processor"
  description                    = "ddb2aurora: DynamoDB stream of ${local.table_name} -> Firehose ${var.delivery_stream_name}"
  package_path                   = var.package_path
  handler                        = "stream_processor.handler"
  architectures                  = var.architectures
  memory_size                    = var.memory_size
  timeout                        = var.timeout
  reserved_concurrent_executions = var.reserved_concurrent_executions
  tracing_mode                   = var.tracing_mode
  log_retention_in_days          = var.log_retention_in_days
  log_kms_key_arn                = var.log_kms_key_arn

  environment_variables = merge(
    {
      POWERTOOLS_SERVICE_NAME      = "stream_processor"
      POWERTOOLS_METRICS_NAMESPACE = "ddb2aurora"
    },
    var.environment_variables,
    {
      DELIVERY_STREAM_NAME  = var.delivery_stream_name
      DEAD_LETTER_QUEUE_URL = module.dead_letter_queue.queue_url
    },
  )

  policy_statements = concat(
    [
      {
        sid       = "ReadStream"
        actions   = ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"]
        resources = [local.stream_arn]
      },
      {
        # ListStreams is authorised on the table's stream/* resource.
        sid       = "ListStreams"
        actions   = ["dynamodb:ListStreams"]
        resources = ["${local.table_arn}/stream/*"]
      },
      {
        # Reads the current image back when a table's stream carries KEYS_ONLY.
        sid       = "ReadCurrentItem"
        actions   = ["dynamodb:GetItem"]
        resources = [local.table_arn]
      },
      {
        sid       = "PutChangeRecords"
        actions   = ["firehose:PutRecordBatch"]
        resources = [var.delivery_stream_arn]
      },
      {
        # The function sends oversized records here; the mapping's on-failure destination
        # also sends with the function's role.
        sid       = "SendToDeadLetterQueue"
        actions   = ["sqs:SendMessage"]
        resources = [module.dead_letter_queue.queue_arn]
      },
    ],
    var.table_kms_key_arn == null ? [] : [{
      sid       = "DecryptStream"
      actions   = ["kms:Decrypt"]
      resources = [var.table_kms_key_arn]
    }],
    var.dead_letter_queue_kms_key_arn == null ? [] : [{
      sid       = "EncryptDeadLetters"
      actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
      resources = [var.dead_letter_queue_kms_key_arn]
    }],
  )

  tags = var.tags
}

resource "aws_lambda_event_source_mapping" "this" {
  event_source_arn                   = local.stream_arn
  function_name                      = module.function.function_arn
  starting_position                  = "TRIM_HORIZON"
  enabled                            = var.event_source_mapping.enabled
  batch_size                         = var.event_source_mapping.batch_size
  maximum_batching_window_in_seconds = var.event_source_mapping.maximum_batching_window_in_seconds
  maximum_retry_attempts             = var.event_source_mapping.maximum_retry_attempts
  maximum_record_age_in_seconds      = var.event_source_mapping.maximum_record_age_in_seconds
  parallelization_factor             = var.event_source_mapping.parallelization_factor
  bisect_batch_on_function_error     = true
  function_response_types            = ["ReportBatchItemFailures"]

  destination_config {
    on_failure {
      destination_arn = module.dead_letter_queue.queue_arn
    }
  }

  tags = var.tags
}
