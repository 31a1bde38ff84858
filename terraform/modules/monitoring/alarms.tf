resource "aws_cloudwatch_metric_alarm" "this" {
  for_each = local.enabled_alarms

  alarm_name        = "${var.name}-${replace(each.key, "_", "-")}"
  alarm_description = each.value.description

  namespace           = each.value.namespace
  metric_name         = each.value.metric_name
  dimensions          = each.value.dimensions
  statistic           = each.value.statistic
  comparison_operator = each.value.comparison
  threshold           = each.value.threshold
  period              = each.value.period
  evaluation_periods  = each.value.evaluation_periods
  # No data means no traffic (or no failures), not trouble.
  treat_missing_data = "notBreaching"

  alarm_actions = compact([local.sns_topic_arn])
  ok_actions    = var.ok_actions_enabled ? compact([local.sns_topic_arn]) : []

  tags = var.tags

  lifecycle {
    precondition {
      condition     = each.value.target != null
      error_message = "alarms.${each.key} is enabled but ${each.value.input} is not set: give it or set alarms.${each.key}.enabled = false."
    }
  }
}
