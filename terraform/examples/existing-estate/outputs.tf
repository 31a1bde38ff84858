output "bucket_name" {
  description = "Delivery bucket (give the cluster's S3 role read access to it for load_method = s3)."
  value       = module.firehose.bucket_name
}

output "delivery_stream_name" {
  description = "Firehose delivery stream."
  value       = module.firehose.delivery_stream_name
}

output "stream_dead_letter_queue_url" {
  description = "Dead-letter queue of the stream mapping."
  value       = module.stream_ingest.dead_letter_queue_url
}

output "loader_dead_letter_queue_url" {
  description = "Dead-letter queue of the loader."
  value       = module.loader.dead_letter_queue_url
}

output "loader_role_arn" {
  description = "Role of the loader (for IAM database authentication grants, if used instead of a secret)."
  value       = module.loader.role_arn
}
