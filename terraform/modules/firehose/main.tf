locals {
  kms_key_arn  = var.create_kms_key ? aws_kms_key.this[0].arn : var.kms_key_arn
  bucket_name  = var.create_bucket ? aws_s3_bucket.this[0].bucket : var.bucket_name
  bucket_arn   = var.create_bucket ? aws_s3_bucket.this[0].arn : "arn:${data.aws_partition.current.partition}:s3:::${var.bucket_name}"
  stream_name  = "${var.name}-delivery"
  log_group    = "/aws/kinesisfirehose/${local.stream_name}"
  data_prefix  = regex("^[^!]*", var.prefix)
  error_prefix = regex("^[^!]*", var.error_output_prefix)
}

################################################################################
# firehose_transform function
################################################################################

module "transform" {
  source = "../lambda-function"

  function_name                  = "${var.name}-firehose-transform"
  description                    = "ddb2aurora: change records -> CSV rows for ${local.stream_name}"
  package_path                   = var.package_path
  handler                        = "firehose_transform.handler"
  architectures                  = var.architectures
  memory_size                    = var.memory_size
  timeout                        = var.timeout
  reserved_concurrent_executions = var.reserved_concurrent_executions
  tracing_mode                   = var.tracing_mode
  log_retention_in_days          = var.log_retention_in_days
  log_kms_key_arn                = local.kms_key_arn

  environment_variables = merge(
    {
      POWERTOOLS_SERVICE_NAME      = "firehose_transform"
      POWERTOOLS_METRICS_NAMESPACE = "ddb2aurora"
    },
    var.environment_variables,
    { TABLE_MAPPING_PARAMETER = var.table_mapping_parameter_name },
  )

  policy_statements = [
    {
      sid       = "ReadTableMapping"
      actions   = ["ssm:GetParameter"]
      resources = [var.table_mapping_parameter_arn]
    },
  ]

  tags = var.tags
}

################################################################################
# Delivery stream
################################################################################

resource "aws_cloudwatch_log_group" "this" {
  name              = local.log_group
  retention_in_days = var.log_retention_in_days
  kms_key_id        = local.kms_key_arn
  tags              = var.tags
}

resource "aws_cloudwatch_log_stream" "this" {
  name           = "DestinationDelivery"
  log_group_name = aws_cloudwatch_log_group.this.name
}

resource "aws_kinesis_firehose_delivery_stream" "this" {
  name        = local.stream_name
  destination = "extended_s3"

  server_side_encryption {
    enabled  = true
    key_type = "CUSTOMER_MANAGED_CMK"
    key_arn  = local.kms_key_arn
  }

  extended_s3_configuration {
    role_arn            = aws_iam_role.firehose.arn
    bucket_arn          = local.bucket_arn
    prefix              = var.prefix
    error_output_prefix = var.error_output_prefix
    buffering_size      = var.buffering_size
    buffering_interval  = var.buffering_interval
    compression_format  = "UNCOMPRESSED"
    kms_key_arn         = local.kms_key_arn

    cloudwatch_logging_options {
      enabled         = true
      log_group_name  = aws_cloudwatch_log_group.this.name
      log_stream_name = aws_cloudwatch_log_stream.this.name
    }

    processing_configuration {
      enabled = true

      processors {
        type = "Lambda"

        parameters {
          parameter_name  = "LambdaArn"
          parameter_value = module.transform.function_arn
        }
        parameters {
          parameter_name  = "NumberOfRetries"
          parameter_value = tostring(var.processor.number_of_retries)
        }
        parameters {
          parameter_name  = "BufferSizeInMBs"
          parameter_value = tostring(var.processor.buffer_size_in_mb)
        }
        parameters {
          parameter_name  = "BufferIntervalInSeconds"
          parameter_value = tostring(var.processor.buffer_interval_in_seconds)
        }
      }
    }
  }

  tags = var.tags

  # Firehose checks its role when the stream is created.
  depends_on = [aws_iam_role_policy.firehose]
}
