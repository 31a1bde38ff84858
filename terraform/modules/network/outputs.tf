output "vpc_id" {
  description = "ID of the VPC (created or given)."
  value       = try(local.vpc_id, null)

  precondition {
    condition     = var.create_vpc || var.vpc_id != null
    error_message = "create_vpc = false needs vpc_id."
  }
}

output "vpc_cidr_block" {
  description = "CIDR block of the VPC (created or looked up)."
  value       = try(local.vpc_cidr_block, null)
}

output "private_subnet_ids" {
  description = "IDs of the private subnets (created or given); the loader and Aurora go here."
  value       = try(local.subnet_ids, [])

  precondition {
    condition     = var.create_vpc || length(var.private_subnet_ids) >= 2
    error_message = "create_vpc = false needs private_subnet_ids with at least two subnets in two Availability Zones."
  }
}

output "route_table_ids" {
  description = "IDs of the private route tables (created or given)."
  value       = try(local.route_table_ids, [])
}

output "loader_security_group_id" {
  description = "ID of the loader's security group (egress to Aurora, S3 and the endpoints only); null when create_security_groups is false."
  value       = try(aws_security_group.loader[0].id, null)
}

output "aurora_security_group_id" {
  description = "ID of Aurora's security group (ingress on the Aurora port from the loader only); null when create_security_groups is false."
  value       = try(aws_security_group.aurora[0].id, null)
}

output "s3_endpoint_id" {
  description = "ID of the S3 gateway endpoint; null when create_s3_endpoint is false."
  value       = try(aws_vpc_endpoint.s3[0].id, null)
}

output "secretsmanager_endpoint_id" {
  description = "ID of the Secrets Manager interface endpoint; null when create_secretsmanager_endpoint is false."
  value       = try(aws_vpc_endpoint.secretsmanager[0].id, null)
}

output "ssm_endpoint_id" {
  description = "ID of the SSM interface endpoint; null when create_ssm_endpoint is false."
  value       = try(aws_vpc_endpoint.ssm[0].id, null)
}

output "endpoint_policies" {
  description = "Policy documents set on the endpoints this module creates (the least-privilege defaults or the *_endpoint_policy given), by endpoint: s3, secretsmanager, ssm; null for an endpoint not created."
  value = {
    s3             = try(aws_vpc_endpoint.s3[0].policy, null)
    secretsmanager = try(aws_vpc_endpoint.secretsmanager[0].policy, null)
    ssm            = try(aws_vpc_endpoint.ssm[0].policy, null)
  }
}

output "endpoints_security_group_id" {
  description = "ID of the interface endpoints' security group; null when no interface endpoint is created."
  value       = try(aws_security_group.endpoints[0].id, null)
}

output "flow_log_id" {
  description = "ID of the VPC flow log; null when create_flow_log is false."
  value       = try(aws_flow_log.this[0].id, null)
}

output "flow_log_group_name" {
  description = "Name of the flow log's CloudWatch log group; null when create_flow_log is false."
  value       = try(aws_cloudwatch_log_group.flow_log[0].name, null)
}
