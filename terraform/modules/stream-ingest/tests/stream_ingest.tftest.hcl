mock_provider "aws" {
  mock_resource "aws_dynamodb_table" {
    defaults = {
      arn        = "arn:aws:dynamodb:eu-west-1:123456789012:table/web_analytics"
      stream_arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/web_analytics/stream/2026-01-01T00:00:00.000"
    }
  }
  mock_resource "aws_sqs_queue" {
    defaults = {
      arn = "arn:aws:sqs:eu-west-1:123456789012:test-stream-dlq"
      url = "https://sqs.eu-west-1.amazonaws.com/123456789012/test-stream-dlq"
    }
  }
  mock_resource "aws_iam_role" {
    defaults = {
      arn = "arn:aws:iam::123456789012:role/test-stream-processor"
    }
  }
  mock_resource "aws_cloudwatch_log_group" {
    defaults = {
      arn = "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/test-stream-processor"
    }
  }
  mock_resource "aws_lambda_function" {
    defaults = {
      arn           = "arn:aws:lambda:eu-west-1:123456789012:function:test-stream-processor"
      qualified_arn = "arn:aws:lambda:eu-west-1:123456789012:function:test-stream-processor:1"
      invoke_arn    = "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:123456789012:function:test-stream-processor/invocations"
    }
  }
  mock_data "aws_iam_policy_document" {
    defaults = {
      json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}"
    }
  }
}

variables {
  name                 = "test"
  table_name           = "web_analytics"
  hash_key             = { name = "page_id" }
  range_key            = { name = "activity_dt" }
  package_path         = "../../tests/fixtures/function.zip"
  delivery_stream_name = "test-delivery"
  delivery_stream_arn  = "arn:aws:firehose:eu-west-1:123456789012:deliverystream/test-delivery"
}

run "creates_table_stream_queue_function_and_mapping" {
  command = apply

  assert {
    condition     = aws_dynamodb_table.this[0].stream_view_type == "NEW_AND_OLD_IMAGES" && aws_dynamodb_table.this[0].point_in_time_recovery[0].enabled
    error_message = "The table must stream NEW_AND_OLD_IMAGES with point-in-time recovery on."
  }

  assert {
    condition     = aws_dynamodb_table.this[0].billing_mode == "PAY_PER_REQUEST" && aws_dynamodb_table.this[0].deletion_protection_enabled
    error_message = "Defaults: on-demand billing, deletion protection on."
  }

  assert {
    condition     = output.dead_letter_queue_name == "test-stream-dlq" && output.dead_letter_queue_arn == "arn:aws:sqs:eu-west-1:123456789012:test-stream-dlq"
    error_message = "The dead-letter queue <name>-stream-dlq must be created (its encryption is the dead-letter-queue module's test)."
  }

  assert {
    condition = (
      aws_lambda_event_source_mapping.this.starting_position == "TRIM_HORIZON" &&
      aws_lambda_event_source_mapping.this.bisect_batch_on_function_error &&
      contains(aws_lambda_event_source_mapping.this.function_response_types, "ReportBatchItemFailures") &&
      aws_lambda_event_source_mapping.this.destination_config[0].on_failure[0].destination_arn == output.dead_letter_queue_arn
    )
    error_message = "The mapping must start at TRIM_HORIZON, bisect, report item failures and send failures to the queue."
  }

  assert {
    condition     = module.function.function_name == "test-stream-processor"
    error_message = "Function name must be <name>-stream-processor."
  }

  assert {
    condition     = output.table_arn == "arn:aws:dynamodb:eu-west-1:123456789012:table/web_analytics"
    error_message = "table_arn must come from the table."
  }
}

run "handler_and_environment_follow_the_contract" {
  command = apply

  assert {
    condition     = module.function.handler == "stream_processor.handler"
    error_message = "The handler must be stream_processor.handler."
  }

  assert {
    condition = (
      module.function.environment_variables["DELIVERY_STREAM_NAME"] == "test-delivery" &&
      module.function.environment_variables["DEAD_LETTER_QUEUE_URL"] == "https://sqs.eu-west-1.amazonaws.com/123456789012/test-stream-dlq"
    )
    error_message = "DELIVERY_STREAM_NAME and DEAD_LETTER_QUEUE_URL must be set as docs/architecture.md says."
  }
}

run "existing_table_and_queue_create_neither" {
  command = apply

  variables {
    create_table             = false
    hash_key                 = null
    range_key                = null
    stream_arn               = "arn:aws:dynamodb:eu-west-1:123456789012:table/legacy/stream/2025-05-05T05:05:05.555"
    create_dead_letter_queue = false
    dead_letter_queue_arn    = "arn:aws:sqs:eu-west-1:123456789012:legacy-dlq"
    dead_letter_queue_url    = "https://sqs.eu-west-1.amazonaws.com/123456789012/legacy-dlq"
  }

  assert {
    condition     = length(aws_dynamodb_table.this) == 0 && output.dead_letter_queue_arn == var.dead_letter_queue_arn && output.dead_letter_queue_url == var.dead_letter_queue_url
    error_message = "create_table = false and create_dead_letter_queue = false must create no table and use the given queue."
  }

  assert {
    condition     = output.table_arn == "arn:aws:dynamodb:eu-west-1:123456789012:table/legacy"
    error_message = "The table ARN must be derived from the given stream ARN."
  }

  assert {
    condition     = aws_lambda_event_source_mapping.this.event_source_arn == var.stream_arn
    error_message = "The mapping must read the given stream."
  }

  assert {
    condition     = output.dead_letter_queue_name == "legacy-dlq"
    error_message = "The queue name must come from the given ARN."
  }
}

run "rejects_batch_size_out_of_range" {
  command = plan

  variables {
    event_source_mapping = { batch_size = 10001 }
  }

  expect_failures = [var.event_source_mapping]
}

run "rejects_batching_window_out_of_range" {
  command = plan

  variables {
    event_source_mapping = { maximum_batching_window_in_seconds = 301 }
  }

  expect_failures = [var.event_source_mapping]
}

run "rejects_parallelization_factor_out_of_range" {
  command = plan

  variables {
    event_source_mapping = { parallelization_factor = 11 }
  }

  expect_failures = [var.event_source_mapping]
}

run "rejects_record_age_out_of_range" {
  command = plan

  variables {
    event_source_mapping = { maximum_record_age_in_seconds = 30 }
  }

  expect_failures = [var.event_source_mapping]
}

run "requires_the_stream_of_an_existing_table" {
  command = plan

  variables {
    create_table = false
  }

  expect_failures = [var.stream_arn]
}

run "requires_the_queue_when_not_creating_it" {
  command = plan

  variables {
    create_dead_letter_queue = false
  }

  expect_failures = [var.dead_letter_queue_arn]
}

# Upgrade from before the dead-letter-queue module: the queue in the old state must move to
# module.dead_letter_queue (migrations.tf), not be destroyed and created again. The "after"
# run's override gives a newly created queue another ARN; it cannot touch a moved one, which
# keeps the ARN the "before" run created it with.
run "upgrade_before_the_dead_letter_queue_module" {
  state_key = "upgrade"

  variables {
    queue_suffix = "stream"
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
