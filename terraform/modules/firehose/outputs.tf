output "bucket_name" {
  description = "Name of the delivery bucket."
  value       = local.bucket_name
}

output "bucket_arn" {
  description = "ARN of the delivery bucket."
  value       = local.bucket_arn
}

output "data_prefix" {
  description = "Static part of the delivery prefix (what the loader's bucket notification filters on)."
  value       = local.data_prefix
}

output "error_prefix" {
  description = "Static part of the error output prefix."
  value       = local.error_prefix
}

output "delivery_stream_name" {
  description = "Name of the delivery stream."
  value       = try(aws_kinesis_firehose_delivery_stream.this.name, null)
}

output "delivery_stream_arn" {
  description = "ARN of the delivery stream."
  value       = try(aws_kinesis_firehose_delivery_stream.this.arn, null)
}

output "delivery_role_arn" {
  description = "ARN of the delivery stream's role."
  value       = try(aws_iam_role.firehose.arn, null)
}

output "transform_function_name" {
  description = "Name of the firehose_transform function."
  value       = module.transform.function_name
}

output "transform_function_arn" {
  description = "ARN of the firehose_transform function."
  value       = module.transform.function_arn
}

output "kms_key_arn" {
  description = "KMS key of the bucket, the delivery stream and the log groups."
  value       = local.kms_key_arn
}
