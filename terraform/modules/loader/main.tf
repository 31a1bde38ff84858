data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  # DB_SECRET_ARN or DB_IAM_AUTH + DB_USER, never both (docs/architecture.md).
  credentials_environment = var.db_iam_auth ? { DB_IAM_AUTH = "true", DB_USER = var.db_user } : { DB_SECRET_ARN = var.db_secret_arn }
}

################################################################################
# Dead-letter queue
################################################################################

module "dead_letter_queue" {
  source = "../dead-letter-queue"

  create                    = var.create_dead_letter_queue
  name                      = "${var.name}-loader-dlq"
  existing_queue_arn        = var.dead_letter_queue_arn
  existing_queue_url        = var.dead_letter_queue_url
  kms_key_arn               = var.dead_letter_queue_kms_key_arn
  message_retention_seconds = var.dead_letter_queue_message_retention_seconds
  tags                      = var.tags
}

################################################################################
# aurora_loader function
################################################################################

module "function" {
  source = "../lambda-function"

  function_name                  = "${var.name}-aurora-loader"
  description                    = "ddb2aurora: s3://${var.bucket_name}/${var.data_prefix} -> Aurora ${var.db_name}"
  package_path                   = var.package_path
  handler                        = "aurora_loader.handler"
  architectures                  = var.architectures
  memory_size                    = var.memory_size
  timeout                        = var.timeout
  reserved_concurrent_executions = var.reserved_concurrent_executions
  tracing_mode                   = var.tracing_mode
  log_retention_in_days          = var.log_retention_in_days
  log_kms_key_arn                = var.log_kms_key_arn

  vpc_config = {
    subnet_ids         = var.subnet_ids
    security_group_ids = var.security_group_ids
  }

  environment_variables = merge(
    {
      POWERTOOLS_SERVICE_NAME      = "aurora_loader"
      POWERTOOLS_METRICS_NAMESPACE = "ddb2aurora"
    },
    var.environment_variables,
    {
      TABLE_MAPPING_PARAMETER = var.table_mapping_parameter_name
      DB_HOST                 = var.db_host
      DB_PORT                 = tostring(var.db_port)
      DB_NAME                 = var.db_name
      DB_TLS_MODE             = var.db_tls_mode
      LOAD_METHOD             = var.load_method
    },
    local.credentials_environment,
  )

  policy_statements = concat(
    [
      {
        sid       = "ReadTableMapping"
        actions   = ["ssm:GetParameter"]
        resources = [var.table_mapping_parameter_arn]
      },
      {
        # The asynchronous invoke config's on-failure destination sends with the function's role.
        sid       = "SendToDeadLetterQueue"
        actions   = ["sqs:SendMessage"]
        resources = [module.dead_letter_queue.queue_arn]
      },
    ],
    var.db_iam_auth ? [] : [{
      sid       = "ReadDatabaseSecret"
      actions   = ["secretsmanager:GetSecretValue"]
      resources = [var.db_secret_arn]
    }],
    var.db_iam_auth || var.db_secret_kms_key_arn == null ? [] : [{
      sid       = "DecryptDatabaseSecret"
      actions   = ["kms:Decrypt"]
      resources = [var.db_secret_kms_key_arn]
    }],
    var.db_iam_auth ? [{
      sid       = "ConnectWithIamToken"
      actions   = ["rds-db:connect"]
      resources = ["arn:${data.aws_partition.current.partition}:rds-db:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:dbuser:${coalesce(var.db_cluster_resource_id, "-")}/${coalesce(var.db_user, "-")}"]
    }] : [],
    var.load_method == "local" ? [{
      # LOAD DATA LOCAL streams the object through the loader; with s3 Aurora's own role reads it.
      sid       = "ReadDeliveredObjects"
      actions   = ["s3:GetObject"]
      resources = ["${var.bucket_arn}/${var.data_prefix}*"]
    }] : [],
    var.load_method == "local" && var.bucket_kms_key_arn != null ? [{
      sid       = "DecryptDeliveredObjects"
      actions   = ["kms:Decrypt"]
      resources = [var.bucket_kms_key_arn]
    }] : [],
    var.dead_letter_queue_kms_key_arn == null ? [] : [{
      sid       = "EncryptDeadLetters"
      actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
      resources = [var.dead_letter_queue_kms_key_arn]
    }],
  )

  tags = var.tags
}

resource "aws_lambda_function_event_invoke_config" "this" {
  function_name                = module.function.function_name
  maximum_retry_attempts       = var.async_invoke.maximum_retry_attempts
  maximum_event_age_in_seconds = var.async_invoke.maximum_event_age_in_seconds

  destination_config {
    on_failure {
      destination = module.dead_letter_queue.queue_arn
    }
  }
}

################################################################################
# S3 trigger
################################################################################

resource "aws_lambda_permission" "s3" {
  statement_id   = "AllowInvokeFromDeliveryBucket"
  action         = "lambda:InvokeFunction"
  function_name  = module.function.function_name
  principal      = "s3.amazonaws.com"
  source_arn     = var.bucket_arn
  source_account = data.aws_caller_identity.current.account_id
}

resource "aws_s3_bucket_notification" "this" {
  count = var.create_bucket_notification ? 1 : 0

  bucket = var.bucket_name

  lambda_function {
    id                  = "${var.name}-aurora-loader"
    lambda_function_arn = module.function.function_arn
    events              = ["s3:ObjectCreated:*"]
    filter_prefix       = var.data_prefix
  }

  depends_on = [aws_lambda_permission.s3]
}
