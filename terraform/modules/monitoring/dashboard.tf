################################################################################
# Dashboard: one row per stage of the pipeline, for the parts that are named
################################################################################

locals {
  dashboard_name = "${var.name}-pipeline"

  dashboard_widgets = concat(
    var.stream_processor_function_name == null ? [] : [{
      title   = "Stream processor: iterator age (ms), errors"
      metrics = [["AWS/Lambda", "IteratorAge", "FunctionName", var.stream_processor_function_name, { stat = "Maximum" }], [".", "Errors", ".", ".", { stat = "Sum", yAxis = "right" }]]
    }],
    var.stream_dlq_name == null && var.loader_dlq_name == null ? [] : [{
      title   = "Dead-letter queues: visible messages"
      metrics = [for queue in compact([var.stream_dlq_name, var.loader_dlq_name]) : ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", queue, { stat = "Maximum" }]]
    }],
    var.delivery_stream_name == null ? [] : [{
      title   = "Firehose: data freshness (s), processing success"
      metrics = [["AWS/Firehose", "DeliveryToS3.DataFreshness", "DeliveryStreamName", var.delivery_stream_name, { stat = "Maximum" }], [".", "ExecuteProcessing.Success", ".", ".", { stat = "Average", yAxis = "right" }]]
    }],
    var.firehose_transform_function_name == null ? [] : [{
      title   = "Firehose transform: invocations, errors, records failed"
      metrics = [["AWS/Lambda", "Invocations", "FunctionName", var.firehose_transform_function_name, { stat = "Sum" }], [".", "Errors", ".", ".", { stat = "Sum" }], [var.metrics_namespace, "RecordsFailed", "service", var.transform_metrics_service, { stat = "Sum" }]]
    }],
    var.loader_function_name == null ? [] : [{
      title   = "Loader: invocations, errors, throttles, duration (ms)"
      metrics = [["AWS/Lambda", "Invocations", "FunctionName", var.loader_function_name, { stat = "Sum" }], [".", "Errors", ".", ".", { stat = "Sum" }], [".", "Throttles", ".", ".", { stat = "Sum" }], [".", "Duration", ".", ".", { stat = "Maximum", yAxis = "right" }]]
    }],
    var.cluster_id == null ? [] : [{
      title   = "Aurora: CPU (%), connections"
      metrics = [["AWS/RDS", "CPUUtilization", "DBClusterIdentifier", var.cluster_id, { stat = "Average" }], [".", "DatabaseConnections", ".", ".", { stat = "Maximum", yAxis = "right" }]]
    }],
  )
}

resource "aws_cloudwatch_dashboard" "this" {
  count = var.create_dashboard ? 1 : 0

  dashboard_name = local.dashboard_name
  dashboard_body = jsonencode({
    widgets = [for index, widget in local.dashboard_widgets : {
      type   = "metric"
      x      = (index % 2) * 12
      y      = floor(index / 2) * 6
      width  = 12
      height = 6
      properties = {
        title   = widget.title
        region  = local.region
        view    = "timeSeries"
        stacked = false
        period  = 60
        metrics = widget.metrics
      }
    }]
  })
}
