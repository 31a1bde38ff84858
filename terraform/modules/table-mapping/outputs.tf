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
  value       = try(local.mapping.source_table, null)
}

output "target_table" {
  description = "Aurora table the mapping writes."
  value       = local.mapping.target_table
}

output "keys" {
  description = "Key columns of the target table."
  value       = local.mapping.keys
}

output "dynamodb_key_attributes" {
  description = "The DynamoDB key (hash, then range) the mapping's key columns read: attribute name and type (S, N or B) derived from the column's SQL type."
  value = [
    for key in local.mapping.keys : one([
      for column in local.mapping.columns : {
        name = column.path[0]
        type = (
          can(regex("(?i)^\\s*(TINYINT|SMALLINT|INT|BIGINT|DECIMAL|NUMERIC|DOUBLE|BOOL)", column.type)) ? "N" :
          can(regex("(?i)^\\s*(VARBINARY|BLOB|MEDIUMBLOB|LONGBLOB)", column.type)) ? "B" : "S"
        )
      } if column.name == key
    ])
  ]
}
