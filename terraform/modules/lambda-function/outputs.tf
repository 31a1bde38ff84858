output "function_name" {
  description = "Name of the function."
  value       = try(aws_lambda_function.this.function_name, null)
}

output "function_arn" {
  description = "ARN of the function."
  value       = try(aws_lambda_function.this.arn, null)
}

output "role_name" {
  description = "Name of the function's execution role."
  value       = try(aws_iam_role.this.name, null)
}

output "role_arn" {
  description = "ARN of the function's execution role."
  value       = try(aws_iam_role.this.arn, null)
}

output "log_group_name" {
  description = "Name of the function's log group."
  value       = try(aws_cloudwatch_log_group.this.name, null)
}

output "log_group_arn" {
  description = "ARN of the function's log group."
  value       = try(aws_cloudwatch_log_group.this.arn, null)
}

output "handler" {
  description = "Handler string of the function."
  value       = try(aws_lambda_function.this.handler, null)
}

output "environment_variables" {
  description = "Environment of the function (never holds secrets)."
  value       = try(aws_lambda_function.this.environment[0].variables, {})
}
