output "parameter_name" {
  description = "Name of the SSM parameter holding the mapping (the functions' TABLE_MAPPING_PARAMETER)."
  value       = try(aws_ssm_parameter.this.name, null)
}

output "parameter_arn" {
  description = "ARN of the SSM parameter holding the mapping (for ssm:GetParameter grants)."
  value       = try(aws_ssm_parameter.this.arn, null)
}

output "source_table" {
  description = "DynamoDB table the mapping reads."
  value       = local.mapping.source_table
}

output "target_table" {
  description = "Aurora table the mapping writes."
  value       = local.mapping.target_table
}

output "keys" {
  description = "Key columns of the target table."
  value       = local.mapping.keys
}
