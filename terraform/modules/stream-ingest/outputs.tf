output "table_name" {
  description = "Name of the DynamoDB table."
  value       = local.table_name
}

output "table_arn" {
  description = "ARN of the DynamoDB table."
  value       = local.table_arn
}

output "stream_arn" {
  description = "ARN of the table's stream."
  value       = local.stream_arn
}

output "function_name" {
  description = "Name of the stream_processor function."
  value       = module.function.function_name
}

output "function_arn" {
  description = "ARN of the stream_processor function."
  value       = module.function.function_arn
}

output "role_arn" {
  description = "ARN of the stream_processor function's role."
  value       = module.function.role_arn
}

output "log_group_name" {
  description = "Log group of the stream_processor function."
  value       = module.function.log_group_name
}

output "dead_letter_queue_url" {
  description = "URL of the stream dead-letter queue."
  value       = module.dead_letter_queue.queue_url
}

output "dead_letter_queue_arn" {
  description = "ARN of the stream dead-letter queue."
  value       = module.dead_letter_queue.queue_arn
}

output "dead_letter_queue_name" {
  description = "Name of the stream dead-letter queue (for alarms)."
  value       = module.dead_letter_queue.queue_name
}

output "event_source_mapping_uuid" {
  description = "UUID of the event source mapping."
  value       = try(aws_lambda_event_source_mapping.this.uuid, null)
}
