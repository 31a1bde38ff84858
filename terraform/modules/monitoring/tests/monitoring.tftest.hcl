mock_provider "aws" {
  mock_data "aws_region" {
    defaults = {
      name = "eu-west-1"
    }
  }

  mock_data "aws_partition" {
    defaults = {
      partition = "aws"
    }
  }

  mock_data "aws_caller_identity" {
    defaults = {
      account_id = "123456789012"
    }
  }

  mock_data "aws_iam_policy_document" {
    defaults = {
      json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}"
    }
  }

  mock_resource "aws_kms_key" {
    defaults = {
      arn = "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555"
    }
  }

  mock_resource "aws_sns_topic" {
    defaults = {
      arn = "arn:aws:sns:eu-west-1:123456789012:test-alarms"
    }
  }

  mock_resource "aws_cloudwatch_metric_alarm" {
    defaults = {
      arn = "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:test"
    }
  }
}

variables {
  name                             = "test"
  stream_processor_function_name   = "test-stream-processor"
  firehose_transform_function_name = "test-firehose-transform"
  loader_function_name             = "test-aurora-loader"
  stream_dlq_name                  = "test-stream-dlq"
  loader_dlq_name                  = "test-loader-dlq"
  delivery_stream_name             = "test-delivery"
  cluster_id                       = "test-aurora"
}

# apply (against the mock) so the topic ARN wired into the alarms is known to the assertions
run "default_creates_every_alarm_an_encrypted_topic_and_a_dashboard" {
  command = apply

  assert {
    condition     = length(aws_cloudwatch_metric_alarm.this) == 11 && length(output.alarm_arns) == 11
    error_message = "expected the eleven alarms"
  }

  assert {
    condition = (aws_cloudwatch_metric_alarm.this["stream_iterator_age"].metric_name == "IteratorAge"
      && aws_cloudwatch_metric_alarm.this["stream_iterator_age"].namespace == "AWS/Lambda"
      && aws_cloudwatch_metric_alarm.this["stream_iterator_age"].dimensions["FunctionName"] == "test-stream-processor"
    && aws_cloudwatch_metric_alarm.this["stream_iterator_age"].threshold == 300000)
    error_message = "the iterator age alarm must watch stream_processor's IteratorAge"
  }

  assert {
    condition = (aws_cloudwatch_metric_alarm.this["loader_dlq_depth"].metric_name == "ApproximateNumberOfMessagesVisible"
      && aws_cloudwatch_metric_alarm.this["loader_dlq_depth"].dimensions["QueueName"] == "test-loader-dlq"
    && aws_cloudwatch_metric_alarm.this["loader_dlq_depth"].threshold == 0 && aws_cloudwatch_metric_alarm.this["loader_dlq_depth"].comparison_operator == "GreaterThanThreshold")
    error_message = "the loader DLQ alarm must fire on any visible message"
  }

  assert {
    condition = (aws_cloudwatch_metric_alarm.this["firehose_data_freshness"].metric_name == "DeliveryToS3.DataFreshness"
    && aws_cloudwatch_metric_alarm.this["firehose_processing_success"].metric_name == "ExecuteProcessing.Success" && aws_cloudwatch_metric_alarm.this["firehose_processing_success"].comparison_operator == "LessThanThreshold")
    error_message = "the Firehose alarms must watch DeliveryToS3.DataFreshness and ExecuteProcessing.Success"
  }

  assert {
    condition = (aws_cloudwatch_metric_alarm.this["transform_records_failed"].namespace == "ddb2aurora"
      && aws_cloudwatch_metric_alarm.this["transform_records_failed"].metric_name == "RecordsFailed"
    && aws_cloudwatch_metric_alarm.this["transform_records_failed"].dimensions["service"] == "firehose_transform")
    error_message = "the failed-records alarm must watch the transform's Powertools RecordsFailed metric"
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.this["aurora_cpu"].dimensions["DBClusterIdentifier"] == "test-aurora" && aws_cloudwatch_metric_alarm.this["aurora_connections"].metric_name == "DatabaseConnections"
    error_message = "the Aurora alarms must watch the cluster"
  }

  assert {
    condition     = alltrue([for alarm in aws_cloudwatch_metric_alarm.this : alarm.alarm_actions == toset(["arn:aws:sns:eu-west-1:123456789012:test-alarms"])])
    error_message = "every alarm must notify the created topic"
  }

  assert {
    condition     = aws_sns_topic.this[0].kms_master_key_id == aws_kms_key.sns[0].arn && aws_kms_key.sns[0].enable_key_rotation
    error_message = "the topic must be encrypted with the module's rotating key"
  }

  assert {
    condition     = length(jsondecode(aws_cloudwatch_dashboard.this[0].dashboard_body).widgets) == 6
    error_message = "the dashboard must hold one widget per pipeline stage"
  }

  assert {
    condition     = output.dashboard_url == "https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#dashboards:name=test-pipeline"
    error_message = "dashboard_url must open the dashboard in the console"
  }
}

run "given_topic_and_switches_off_give_zero_resources" {
  command = plan

  variables {
    create_sns_topic = false
    sns_topic_arn    = "arn:aws:sns:eu-west-1:123456789012:ops"
    create_dashboard = false
    alarms = {
      stream_iterator_age         = { enabled = false }
      stream_dlq_depth            = { enabled = false }
      loader_dlq_depth            = { enabled = false }
      firehose_data_freshness     = { enabled = false }
      firehose_processing_success = { enabled = false }
      transform_records_failed    = { enabled = false }
      transform_errors            = { enabled = false }
      loader_errors               = { enabled = false }
      loader_throttles            = { enabled = false }
      aurora_cpu                  = { enabled = false }
      aurora_connections          = { enabled = false }
    }
  }

  assert {
    condition     = length(aws_sns_topic.this) == 0 && length(aws_kms_key.sns) == 0 && output.sns_topic_arn == "arn:aws:sns:eu-west-1:123456789012:ops"
    error_message = "create_sns_topic = false must create no topic or key and pass the given topic through"
  }

  assert {
    condition     = length(aws_cloudwatch_metric_alarm.this) == 0 && length(aws_cloudwatch_dashboard.this) == 0 && output.dashboard_url == null
    error_message = "disabled alarms and create_dashboard = false must create nothing"
  }
}

run "thresholds_are_overridable_one_by_one" {
  command = plan

  variables {
    alarms = {
      aurora_cpu       = { threshold = 90, evaluation_periods = 5 }
      loader_throttles = { enabled = false }
    }
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.this["aurora_cpu"].threshold == 90 && aws_cloudwatch_metric_alarm.this["aurora_cpu"].evaluation_periods == 5 && aws_cloudwatch_metric_alarm.this["aurora_cpu"].period == 300
    error_message = "a given threshold must win and the other settings keep their defaults"
  }

  assert {
    condition     = !contains(keys(aws_cloudwatch_metric_alarm.this), "loader_throttles") && length(aws_cloudwatch_metric_alarm.this) == 10
    error_message = "a disabled alarm must not be created"
  }
}

run "enabled_alarm_without_its_target_is_rejected" {
  command = plan

  variables {
    cluster_id = null
  }

  expect_failures = [aws_cloudwatch_metric_alarm.this["aurora_cpu"], aws_cloudwatch_metric_alarm.this["aurora_connections"]]
}

run "negative_threshold_is_rejected" {
  command = plan

  variables {
    alarms = { stream_iterator_age = { threshold = -1 } }
  }

  expect_failures = [var.alarms]
}

run "cpu_threshold_over_100_percent_is_rejected" {
  command = plan

  variables {
    alarms = { aurora_cpu = { threshold = 150 } }
  }

  expect_failures = [var.alarms]
}

run "processing_success_fraction_over_one_is_rejected" {
  command = plan

  variables {
    alarms = { firehose_processing_success = { threshold = 95 } }
  }

  expect_failures = [var.alarms]
}

run "odd_period_is_rejected" {
  command = plan

  variables {
    alarms = { loader_errors = { period = 45 } }
  }

  expect_failures = [var.alarms]
}

run "bad_topic_arn_is_rejected" {
  command = plan

  variables {
    create_sns_topic = false
    sns_topic_arn    = "ops-topic"
  }

  expect_failures = [var.sns_topic_arn]
}
