data "aws_region" "current" {}

locals {
  region = data.aws_region.current.name

  # One entry per alarm: what it measures and which input names its target.
  alarm_definitions = {
    stream_iterator_age = {
      target      = var.stream_processor_function_name
      input       = "stream_processor_function_name"
      description = "Stream records wait too long before stream_processor reads them (milliseconds)."
      namespace   = "AWS/Lambda"
      metric_name = "IteratorAge"
      statistic   = "Maximum"
      comparison  = "GreaterThanThreshold"
      dimensions  = { FunctionName = var.stream_processor_function_name }
    }
    stream_dlq_depth = {
      target      = var.stream_dlq_name
      input       = "stream_dlq_name"
      description = "Stream batches given up on wait in the dead-letter queue: replay them."
      namespace   = "AWS/SQS"
      metric_name = "ApproximateNumberOfMessagesVisible"
      statistic   = "Maximum"
      comparison  = "GreaterThanThreshold"
      dimensions  = { QueueName = var.stream_dlq_name }
    }
    loader_dlq_depth = {
      target      = var.loader_dlq_name
      input       = "loader_dlq_name"
      description = "S3 objects the loader failed to load wait in the dead-letter queue: replay them."
      namespace   = "AWS/SQS"
      metric_name = "ApproximateNumberOfMessagesVisible"
      statistic   = "Maximum"
      comparison  = "GreaterThanThreshold"
      dimensions  = { QueueName = var.loader_dlq_name }
    }
    firehose_data_freshness = {
      target      = var.delivery_stream_name
      input       = "delivery_stream_name"
      description = "The oldest record in Firehose has not reached S3 in time (seconds)."
      namespace   = "AWS/Firehose"
      metric_name = "DeliveryToS3.DataFreshness"
      statistic   = "Maximum"
      comparison  = "GreaterThanThreshold"
      dimensions  = { DeliveryStreamName = var.delivery_stream_name }
    }
    firehose_processing_success = {
      target      = var.delivery_stream_name
      input       = "delivery_stream_name"
      description = "Firehose invocations of the transform function failed (fraction of successful invocations below the threshold)."
      namespace   = "AWS/Firehose"
      metric_name = "ExecuteProcessing.Success"
      statistic   = "Average"
      comparison  = "LessThanThreshold"
      dimensions  = { DeliveryStreamName = var.delivery_stream_name }
    }
    transform_records_failed = {
      target      = var.transform_metrics_service
      input       = "transform_metrics_service"
      description = "The transform marked records ProcessingFailed; Firehose wrote them under the error prefix: fix and replay them."
      namespace   = var.metrics_namespace
      metric_name = "RecordsFailed"
      statistic   = "Sum"
      comparison  = "GreaterThanThreshold"
      dimensions  = { service = var.transform_metrics_service }
    }
    transform_errors = {
      target      = var.firehose_transform_function_name
      input       = "firehose_transform_function_name"
      description = "The firehose_transform function raised errors."
      namespace   = "AWS/Lambda"
      metric_name = "Errors"
      statistic   = "Sum"
      comparison  = "GreaterThanThreshold"
      dimensions  = { FunctionName = var.firehose_transform_function_name }
    }
    loader_errors = {
      target      = var.loader_function_name
      input       = "loader_function_name"
      description = "The aurora_loader function raised errors (its retries and dead-letter queue follow)."
      namespace   = "AWS/Lambda"
      metric_name = "Errors"
      statistic   = "Sum"
      comparison  = "GreaterThanThreshold"
      dimensions  = { FunctionName = var.loader_function_name }
    }
    loader_throttles = {
      target      = var.loader_function_name
      input       = "loader_function_name"
      description = "The aurora_loader function was throttled (concurrency limit)."
      namespace   = "AWS/Lambda"
      metric_name = "Throttles"
      statistic   = "Sum"
      comparison  = "GreaterThanThreshold"
      dimensions  = { FunctionName = var.loader_function_name }
    }
    aurora_cpu = {
      target      = var.cluster_id
      input       = "cluster_id"
      description = "Aurora CPU utilization is high (percent)."
      namespace   = "AWS/RDS"
      metric_name = "CPUUtilization"
      statistic   = "Average"
      comparison  = "GreaterThanThreshold"
      dimensions  = { DBClusterIdentifier = var.cluster_id }
    }
    aurora_connections = {
      target      = var.cluster_id
      input       = "cluster_id"
      description = "Aurora holds many connections."
      namespace   = "AWS/RDS"
      metric_name = "DatabaseConnections"
      statistic   = "Maximum"
      comparison  = "GreaterThanThreshold"
      dimensions  = { DBClusterIdentifier = var.cluster_id }
    }
  }

  # Keys come from the definitions and the enabled switches only, so they are known at plan time.
  enabled_alarms = { for key, alarm in local.alarm_definitions : key => merge(alarm, var.alarms[key]) if var.alarms[key].enabled }

  sns_topic_arn = var.create_sns_topic ? try(aws_sns_topic.this[0].arn, null) : var.sns_topic_arn
}
