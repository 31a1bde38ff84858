mock_provider "aws" {
  mock_resource "aws_kms_key" {
    defaults = {
      arn    = "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555"
      key_id = "11111111-2222-3333-4444-555555555555"
    }
  }
  mock_resource "aws_s3_bucket" {
    defaults = {
      arn = "arn:aws:s3:::test-delivery-bucket"
    }
  }
  mock_resource "aws_iam_role" {
    defaults = {
      arn = "arn:aws:iam::123456789012:role/test-role"
    }
  }
  mock_resource "aws_cloudwatch_log_group" {
    defaults = {
      arn = "arn:aws:logs:eu-west-1:123456789012:log-group:test"
    }
  }
  mock_resource "aws_lambda_function" {
    defaults = {
      arn           = "arn:aws:lambda:eu-west-1:123456789012:function:test-firehose-transform"
      qualified_arn = "arn:aws:lambda:eu-west-1:123456789012:function:test-firehose-transform:1"
      invoke_arn    = "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:123456789012:function:test-firehose-transform/invocations"
    }
  }
  mock_resource "aws_kinesis_firehose_delivery_stream" {
    defaults = {
      arn = "arn:aws:firehose:eu-west-1:123456789012:deliverystream/test-delivery"
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
  bucket_name                  = "test-delivery-bucket"
  package_path                 = "../../tests/fixtures/function.zip"
  table_mapping_parameter_name = "/test/mappings/web_analytics"
  table_mapping_parameter_arn  = "arn:aws:ssm:eu-west-1:123456789012:parameter/test/mappings/web_analytics"
}

run "creates_bucket_key_stream_and_transform" {
  command = apply

  assert {
    condition     = length(aws_s3_bucket.this) == 1 && length(aws_kms_key.this) == 1 && aws_kms_key.this[0].enable_key_rotation
    error_message = "The bucket and a rotating key must be created."
  }

  assert {
    condition = (
      aws_s3_bucket_public_access_block.this[0].block_public_acls &&
      aws_s3_bucket_public_access_block.this[0].block_public_policy &&
      aws_s3_bucket_public_access_block.this[0].restrict_public_buckets &&
      aws_s3_bucket_versioning.this[0].versioning_configuration[0].status == "Enabled"
    )
    error_message = "The bucket must block public access and keep versions."
  }

  assert {
    condition     = length(aws_s3_bucket_policy.this) == 1 && length(aws_s3_bucket_ownership_controls.this) == 1
    error_message = "The bucket must get its TLS-only policy and BucketOwnerEnforced ownership."
  }

  assert {
    condition     = one(one(aws_s3_bucket_server_side_encryption_configuration.this[0].rule).apply_server_side_encryption_by_default).sse_algorithm == "aws:kms"
    error_message = "The bucket must be encrypted with KMS."
  }

  assert {
    condition     = length(aws_s3_bucket_lifecycle_configuration.this[0].rule) == 3
    error_message = "Lifecycle: abort uploads/old versions, expire data/, expire errors/."
  }

  assert {
    condition = (
      aws_kinesis_firehose_delivery_stream.this.extended_s3_configuration[0].prefix == "data/!{timestamp:yyyy/MM/dd/HH}/" &&
      aws_kinesis_firehose_delivery_stream.this.extended_s3_configuration[0].error_output_prefix == "errors/!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd/HH}/"
    )
    error_message = "Prefixes must follow docs/architecture.md."
  }

  assert {
    condition     = output.data_prefix == "data/" && output.error_prefix == "errors/"
    error_message = "Static prefixes must be data/ and errors/."
  }

  assert {
    condition = contains(
      [for p in aws_kinesis_firehose_delivery_stream.this.extended_s3_configuration[0].processing_configuration[0].processors[0].parameters : p.parameter_value if p.parameter_name == "LambdaArn"],
      module.transform.function_arn,
    )
    error_message = "The processor must be the transform function."
  }

  assert {
    condition     = aws_kinesis_firehose_delivery_stream.this.server_side_encryption[0].key_type == "CUSTOMER_MANAGED_CMK"
    error_message = "The stream must be encrypted with the customer managed key."
  }

  assert {
    condition     = module.transform.handler == "firehose_transform.handler" && module.transform.environment_variables["TABLE_MAPPING_PARAMETER"] == "/test/mappings/web_analytics"
    error_message = "Transform handler and TABLE_MAPPING_PARAMETER must follow the contract."
  }
}

run "existing_bucket_and_key_create_neither" {
  command = apply

  variables {
    create_bucket  = false
    bucket_name    = "existing-bucket"
    create_kms_key = false
    kms_key_arn    = "arn:aws:kms:eu-west-1:123456789012:key/99999999-2222-3333-4444-555555555555"
  }

  assert {
    condition = (
      length(aws_s3_bucket.this) == 0 && length(aws_s3_bucket_policy.this) == 0 &&
      length(aws_s3_bucket_lifecycle_configuration.this) == 0 && length(aws_kms_key.this) == 0
    )
    error_message = "create_bucket = false and create_kms_key = false must create no bucket parts and no key."
  }

  assert {
    condition     = output.bucket_arn == "arn:aws:s3:::existing-bucket" && output.kms_key_arn == var.kms_key_arn
    error_message = "The existing bucket and key must be used."
  }
}

run "no_expiration_rules_when_kept" {
  command = plan

  variables {
    data_expiration_days = 0
  }

  assert {
    condition     = length(aws_s3_bucket_lifecycle_configuration.this[0].rule) == 1
    error_message = "data_expiration_days = 0 keeps delivered objects."
  }
}

run "rejects_buffering_size_over_128" {
  command = plan

  variables {
    buffering_size = 129
  }

  expect_failures = [var.buffering_size]
}

run "rejects_buffering_size_zero" {
  command = plan

  variables {
    buffering_size = 0
  }

  expect_failures = [var.buffering_size]
}

run "rejects_buffering_interval_over_900" {
  command = plan

  variables {
    buffering_interval = 901
  }

  expect_failures = [var.buffering_interval]
}

run "rejects_processor_buffer_over_3_mb" {
  command = plan

  variables {
    processor = { buffer_size_in_mb = 4 }
  }

  expect_failures = [var.processor]
}

run "rejects_error_prefix_without_error_output_type" {
  command = plan

  variables {
    error_output_prefix = "errors/!{timestamp:yyyy/MM/dd/HH}/"
  }

  expect_failures = [var.error_output_prefix]
}

run "requires_a_key_when_not_creating_one" {
  command = plan

  variables {
    create_kms_key = false
  }

  expect_failures = [var.kms_key_arn]
}
