output "function_name" {
  description = "Name of the aurora_loader function."
  value       = module.function.function_name
}

output "function_arn" {
  description = "ARN of the aurora_loader function."
  value       = module.function.function_arn
}

output "role_arn" {
  description = "ARN of the loader's role."
  value       = module.function.role_arn
}

output "log_group_name" {
  description = "Log group of the loader."
  value       = module.function.log_group_name
}

output "dead_letter_queue_url" {
  description = "URL of the loader dead-letter queue."
  value       = module.dead_letter_queue.queue_url
}

output "dead_letter_queue_arn" {
  description = "ARN of the loader dead-letter queue."
  value       = module.dead_letter_queue.queue_arn
}

output "dead_letter_queue_name" {
  description = "Name of the loader dead-letter queue (for alarms)."
  value       = module.dead_letter_queue.queue_name
}
