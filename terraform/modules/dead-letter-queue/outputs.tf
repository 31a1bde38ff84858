output "queue_arn" {
  description = "ARN of the dead-letter queue (created or existing)."
  value       = local.queue_arn
}

output "queue_url" {
  description = "URL of the dead-letter queue (created or existing)."
  value       = local.queue_url
}

output "queue_name" {
  description = "Name of the dead-letter queue (for alarms): the created queue's, or the last part of the existing queue's ARN."
  value       = var.create ? try(aws_sqs_queue.this[0].name, null) : try(element(split(":", local.queue_arn), 5), null)
}
