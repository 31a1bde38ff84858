mock_provider "aws" {
  mock_resource "aws_sqs_queue" {
    defaults = {
      arn = "arn:aws:sqs:eu-west-1:123456789012:test-loader-dlq"
      url = "https://sqs.eu-west-1.amazonaws.com/123456789012/test-loader-dlq"
    }
  }
  mock_resource "aws_iam_role" {
    defaults = {
      arn = "arn:aws:iam::123456789012:role/test-aurora-loader"
    }
  }
  mock_resource "aws_cloudwatch_log_group" {
    defaults = {
      arn = "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/test-aurora-loader"
    }
  }
  mock_resource "aws_lambda_function" {
    defaults = {
      arn           = "arn:aws:lambda:eu-west-1:123456789012:function:test-aurora-loader"
      qualified_arn = "arn:aws:lambda:eu-west-1:123456789012:function:test-aurora-loader:1"
      invoke_arn    = "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:123456789012:function:test-aurora-loader/invocations"
    }
  }
  mock_data "aws_iam_policy_document" {
    defaults = {
      json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}"
    }
  }
  mock_data "aws_caller_identity" {
    defaults = {
      account_id = "123456789012"
    }
  }
  mock_data "aws_partition" {
    defaults = {
      partition = "aws"
    }
  }
  mock_data "aws_region" {
    defaults = {
      name = "eu-west-1"
    }
  }
}

variables {
  name                         = "test"
  package_path                 = "../../tests/fixtures/function.zip"
  subnet_ids                   = ["subnet-aaaa1111", "subnet-bbbb2222"]
  security_group_ids           = ["sg-cccc3333"]
  table_mapping_parameter_name = "/test/mappings/web_analytics"
  table_mapping_parameter_arn  = "arn:aws:ssm:eu-west-1:123456789012:parameter/test/mappings/web_analytics"
  db_host                      = "test.cluster-abc.eu-west-1.rds.amazonaws.com"
  db_name                      = "replica"
  db_secret_arn                = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!cluster-abc-AbCdEf"
  bucket_name                  = "test-delivery-bucket"
  bucket_arn                   = "arn:aws:s3:::test-delivery-bucket"
}

run "creates_function_trigger_permission_and_queue" {
  command = apply

  assert {
    condition     = module.function.handler == "aurora_loader.handler"
    error_message = "The handler must be aurora_loader.handler."
  }

  assert {
    condition = module.function.environment_variables == tomap({
      POWERTOOLS_SERVICE_NAME      = "aurora_loader"
      POWERTOOLS_METRICS_NAMESPACE = "ddb2aurora"
      TABLE_MAPPING_PARAMETER      = "/test/mappings/web_analytics"
      DB_HOST                      = "test.cluster-abc.eu-west-1.rds.amazonaws.com"
      DB_PORT                      = "3306"
      DB_NAME                      = "replica"
      DB_SECRET_ARN                = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!cluster-abc-AbCdEf"
      DB_TLS_MODE                  = "required"
      LOAD_METHOD                  = "s3"
    })
    error_message = "The environment must be exactly what docs/architecture.md lists."
  }

  assert {
    condition     = aws_lambda_permission.s3.principal == "s3.amazonaws.com" && aws_lambda_permission.s3.source_arn == var.bucket_arn && aws_lambda_permission.s3.source_account == "123456789012"
    error_message = "The permission must be scoped to the bucket and the account."
  }

  assert {
    condition = (
      aws_s3_bucket_notification.this[0].lambda_function[0].filter_prefix == "data/" &&
      contains(aws_s3_bucket_notification.this[0].lambda_function[0].events, "s3:ObjectCreated:*")
    )
    error_message = "The notification must fire on ObjectCreated under data/."
  }

  assert {
    condition = (
      aws_lambda_function_event_invoke_config.this.maximum_retry_attempts == 2 &&
      aws_lambda_function_event_invoke_config.this.destination_config[0].on_failure[0].destination == output.dead_letter_queue_arn &&
      output.dead_letter_queue_name == "test-loader-dlq"
    )
    error_message = "Failed S3 events must go to the dead-letter queue <name>-loader-dlq after the retries."
  }
}

run "iam_auth_sets_user_instead_of_secret" {
  command = apply

  variables {
    db_secret_arn          = null
    db_iam_auth            = true
    db_user                = "loader"
    db_cluster_resource_id = "cluster-ABCDEFGHIJ"
    load_method            = "local"
  }

  assert {
    condition = (
      module.function.environment_variables["DB_IAM_AUTH"] == "true" &&
      module.function.environment_variables["DB_USER"] == "loader" &&
      !contains(keys(module.function.environment_variables), "DB_SECRET_ARN") &&
      module.function.environment_variables["LOAD_METHOD"] == "local"
    )
    error_message = "IAM auth must set DB_IAM_AUTH and DB_USER and no secret."
  }
}

run "existing_queue_and_notification_create_neither" {
  command = apply

  variables {
    create_bucket_notification = false
    create_dead_letter_queue   = false
    dead_letter_queue_arn      = "arn:aws:sqs:eu-west-1:123456789012:legacy-dlq"
    dead_letter_queue_url      = "https://sqs.eu-west-1.amazonaws.com/123456789012/legacy-dlq"
  }

  assert {
    condition     = length(aws_s3_bucket_notification.this) == 0 && output.dead_letter_queue_arn == var.dead_letter_queue_arn && output.dead_letter_queue_url == var.dead_letter_queue_url
    error_message = "create_bucket_notification = false and create_dead_letter_queue = false must create no notification and use the given queue."
  }

  assert {
    condition     = aws_lambda_function_event_invoke_config.this.destination_config[0].on_failure[0].destination == var.dead_letter_queue_arn
    error_message = "The given queue must receive the failures."
  }
}

run "rejects_an_unknown_load_method" {
  command = plan

  variables {
    load_method = "ftp"
  }

  expect_failures = [var.load_method]
}

run "rejects_both_secret_and_iam_auth" {
  command = plan

  variables {
    db_iam_auth            = true
    db_user                = "loader"
    db_cluster_resource_id = "cluster-ABCDEFGHIJ"
  }

  expect_failures = [var.db_secret_arn]
}

run "rejects_too_many_async_retries" {
  command = plan

  variables {
    async_invoke = { maximum_retry_attempts = 3 }
  }

  expect_failures = [var.async_invoke]
}

run "rejects_event_age_out_of_range" {
  command = plan

  variables {
    async_invoke = { maximum_event_age_in_seconds = 59 }
  }

  expect_failures = [var.async_invoke]
}

run "rejects_a_bad_tls_mode" {
  command = plan

  variables {
    db_tls_mode = "verify-ca"
  }

  expect_failures = [var.db_tls_mode]
}

# Upgrade from before the dead-letter-queue module: the queue in the old state must move to
# module.dead_letter_queue (migrations.tf), not be destroyed and created again. The "after"
# run's override gives a newly created queue another ARN; it cannot touch a moved one, which
# keeps the ARN the "before" run created it with.
run "upgrade_before_the_dead_letter_queue_module" {
  state_key = "upgrade"

  variables {
    queue_suffix = "loader"
  }

  module {
    source = "../../tests/fixtures/queue_before_dead_letter_queue_module"
  }
}

run "upgrade_moves_the_queue_into_the_module" {
  command   = apply
  state_key = "upgrade"

  override_resource {
    target = module.dead_letter_queue.aws_sqs_queue.this
    values = {
      arn = "arn:aws:sqs:eu-west-1:123456789012:created-again-by-the-upgrade"
      url = "https://sqs.eu-west-1.amazonaws.com/123456789012/created-again-by-the-upgrade"
    }
  }

  assert {
    condition     = output.dead_letter_queue_arn == run.upgrade_before_the_dead_letter_queue_module.queue_arn
    error_message = "The upgrade must move the existing queue into module.dead_letter_queue, not create another."
  }
}
