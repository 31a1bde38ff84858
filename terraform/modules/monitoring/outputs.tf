output "sns_topic_arn" {
  description = "ARN of the topic the alarms notify (created or given)."
  value       = try(local.sns_topic_arn, null)
}

output "sns_kms_key_arn" {
  description = "ARN of the KMS key created for the topic; null when none was created."
  value       = try(aws_kms_key.sns[0].arn, null)
}

output "alarm_arns" {
  description = "ARNs of the alarms, by alarm key (stream_iterator_age, loader_errors, ...)."
  value       = try({ for key, alarm in aws_cloudwatch_metric_alarm.this : key => alarm.arn }, {})
}

output "alarm_names" {
  description = "Names of the alarms, by alarm key."
  value       = try({ for key, alarm in aws_cloudwatch_metric_alarm.this : key => alarm.alarm_name }, {})
}

output "dashboard_name" {
  description = "Name of the CloudWatch dashboard; null when create_dashboard is false."
  value       = try(aws_cloudwatch_dashboard.this[0].dashboard_name, null)
}

output "dashboard_url" {
  description = "Console URL of the dashboard; null when create_dashboard is false."
  value       = var.create_dashboard ? "https://${local.region}.console.aws.amazon.com/cloudwatch/home?region=${local.region}#dashboards:name=${local.dashboard_name}" : null
}
