output "cluster_id" {
  description = "Cluster identifier (created or existing_cluster_identifier); known at plan time, so alarms can be counted on it."
  value       = var.create ? try(aws_rds_cluster.this[0].cluster_identifier, null) : var.existing_cluster_identifier
}

output "cluster_arn" {
  description = "Cluster ARN; null for an existing cluster."
  value       = try(aws_rds_cluster.this[0].arn, null)
}

output "cluster_resource_id" {
  description = "Cluster resource ID (the rds-db:connect resource for IAM database authentication); null for an existing cluster."
  value       = try(aws_rds_cluster.this[0].cluster_resource_id, null)
}

output "cluster_endpoint" {
  description = "Writer endpoint (the loader's DB_HOST)."
  value       = var.create ? try(aws_rds_cluster.this[0].endpoint, null) : var.existing_cluster_endpoint

  precondition {
    condition     = var.create || var.existing_cluster_endpoint != null
    error_message = "create = false needs existing_cluster_endpoint."
  }
}

output "reader_endpoint" {
  description = "Reader endpoint."
  value       = var.create ? try(aws_rds_cluster.this[0].reader_endpoint, null) : var.existing_reader_endpoint
}

output "port" {
  description = "Port the cluster listens on."
  value       = var.create ? try(aws_rds_cluster.this[0].port, var.port) : var.port
}

output "database_name" {
  description = "Database (schema) the loader writes to."
  value       = var.database_name
}

output "master_user_secret_arn" {
  description = "ARN of the Secrets Manager secret RDS manages for the master user (or existing_master_user_secret_arn). The secret value is never an output."
  value       = var.create ? try(aws_rds_cluster.this[0].master_user_secret[0].secret_arn, null) : var.existing_master_user_secret_arn
}

output "master_user_secret_kms_key_arn" {
  description = "KMS key that encrypts the master user secret (the loader needs kms:Decrypt on it); null for an existing cluster."
  value       = try(aws_rds_cluster.this[0].master_user_secret[0].kms_key_id, null)
}

output "security_group_id" {
  description = "The cluster's (first) security group: the one the loader's security group must be allowed in."
  value       = var.create ? try(var.vpc_security_group_ids[0], null) : var.existing_security_group_id
}

output "s3_load_role_arn" {
  description = "ARN of the role LOAD DATA FROM S3 assumes; null when create_s3_load_role is false or create is false."
  value       = try(aws_iam_role.s3_load[0].arn, null)
}

output "kms_key_arn" {
  description = "KMS key that encrypts the cluster's storage; null for an existing cluster."
  value       = var.create ? try(local.kms_key_arn, null) : null
}

output "cluster_parameter_group_name" {
  description = "Name of the cluster parameter group; null for an existing cluster."
  value       = try(aws_rds_cluster_parameter_group.this[0].name, null)
}

output "instance_ids" {
  description = "Identifiers of the cluster's instances."
  value       = try(aws_rds_cluster_instance.this[*].identifier, [])
}
