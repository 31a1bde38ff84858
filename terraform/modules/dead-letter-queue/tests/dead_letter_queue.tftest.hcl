mock_provider "aws" {
  mock_resource "aws_sqs_queue" {
    defaults = {
      arn = "arn:aws:sqs:eu-west-1:123456789012:test-dlq"
      url = "https://sqs.eu-west-1.amazonaws.com/123456789012/test-dlq"
    }
  }
}

variables {
  name = "test-dlq"
}

run "encrypts_with_the_given_key" {
  command = apply

  variables {
    kms_key_arn               = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    message_retention_seconds = 345600
    tags                      = { team = "data" }
  }

  assert {
    condition = (
      aws_sqs_queue.this[0].kms_master_key_id == var.kms_key_arn &&
      aws_sqs_queue.this[0].sqs_managed_sse_enabled != true &&
      aws_sqs_queue.this[0].message_retention_seconds == 345600 &&
      aws_sqs_queue.this[0].tags == tomap({ team = "data" })
    )
    error_message = "A given key must replace SSE-SQS, and retention and tags must be passed through."
  }
}

run "creates_a_queue_with_sqs_managed_encryption" {
  command = apply

  assert {
    condition = (
      aws_sqs_queue.this[0].name == "test-dlq" &&
      aws_sqs_queue.this[0].message_retention_seconds == 1209600 &&
      aws_sqs_queue.this[0].sqs_managed_sse_enabled &&
      aws_sqs_queue.this[0].kms_master_key_id == null
    )
    error_message = "Defaults: the named queue keeps messages 14 days, encrypted with SSE-SQS."
  }

  assert {
    condition = (
      output.queue_arn == "arn:aws:sqs:eu-west-1:123456789012:test-dlq" &&
      output.queue_url == "https://sqs.eu-west-1.amazonaws.com/123456789012/test-dlq" &&
      output.queue_name == "test-dlq"
    )
    error_message = "The outputs must name the created queue."
  }
}

run "uses_an_existing_queue" {
  command = apply

  variables {
    create             = false
    name               = null
    existing_queue_arn = "arn:aws:sqs:eu-west-1:123456789012:legacy-dlq"
    existing_queue_url = "https://sqs.eu-west-1.amazonaws.com/123456789012/legacy-dlq"
  }

  assert {
    condition     = length(aws_sqs_queue.this) == 0
    error_message = "create = false must create no queue."
  }

  assert {
    condition = (
      output.queue_arn == var.existing_queue_arn &&
      output.queue_url == var.existing_queue_url &&
      output.queue_name == "legacy-dlq"
    )
    error_message = "The outputs must name the given queue, its name taken from the ARN."
  }
}

run "requires_a_name_to_create" {
  command = plan

  variables {
    name = null
  }

  expect_failures = [var.name]
}

run "rejects_a_fifo_or_malformed_name" {
  command = plan

  variables {
    name = "test-dlq.fifo"
  }

  expect_failures = [var.name]
}

run "requires_the_existing_queue_arn_when_not_creating" {
  command = plan

  variables {
    create             = false
    existing_queue_url = "https://sqs.eu-west-1.amazonaws.com/123456789012/legacy-dlq"
  }

  expect_failures = [var.existing_queue_arn]
}

run "requires_the_existing_queue_url_when_not_creating" {
  command = plan

  variables {
    create             = false
    existing_queue_arn = "arn:aws:sqs:eu-west-1:123456789012:legacy-dlq"
  }

  expect_failures = [var.existing_queue_url]
}

run "rejects_an_existing_queue_arn_that_is_not_sqs" {
  command = plan

  variables {
    create             = false
    existing_queue_arn = "arn:aws:sns:eu-west-1:123456789012:legacy-dlq"
    existing_queue_url = "https://sqs.eu-west-1.amazonaws.com/123456789012/legacy-dlq"
  }

  expect_failures = [var.existing_queue_arn]
}

run "rejects_a_url_of_another_queue" {
  command = plan

  variables {
    create             = false
    existing_queue_arn = "arn:aws:sqs:eu-west-1:123456789012:legacy-dlq"
    existing_queue_url = "https://sqs.eu-west-1.amazonaws.com/123456789012/other-dlq"
  }

  expect_failures = [var.existing_queue_url]
}

run "rejects_a_key_alias" {
  command = plan

  variables {
    kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:alias/dlq"
  }

  expect_failures = [var.kms_key_arn]
}

run "rejects_retention_out_of_range" {
  command = plan

  variables {
    message_retention_seconds = 1209601
  }

  expect_failures = [var.message_retention_seconds]
}
