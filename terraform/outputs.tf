output "table_name" {
  description = "DynamoDB table being replicated."
  value       = module.stream_ingest.table_name
}

output "stream_arn" {
  description = "ARN of the table's stream."
  value       = module.stream_ingest.stream_arn
}

output "bucket_name" {
  description = "Delivery bucket."
  value       = module.firehose.bucket_name
}

output "data_prefix" {
  description = "Static key prefix of loadable objects in the bucket."
  value       = module.firehose.data_prefix
}

output "error_prefix" {
  description = "Static key prefix of records that failed transformation."
  value       = module.firehose.error_prefix
}

output "delivery_stream_name" {
  description = "Firehose delivery stream."
  value       = module.firehose.delivery_stream_name
}

output "cluster_endpoint" {
  description = "Writer endpoint of the Aurora cluster."
  value       = module.aurora.cluster_endpoint
}

output "database_name" {
  description = "Database the loader writes to."
  value       = module.aurora.database_name
}

output "target_table" {
  description = "Aurora table the mapping writes."
  value       = module.table_mapping.target_table
}

output "table_mapping_parameter_name" {
  description = "SSM parameter holding the table mapping."
  value       = module.table_mapping.parameter_name
}

output "db_secret_arn" {
  description = "ARN of the Secrets Manager secret with the database credentials (the value is never an output)."
  value       = module.aurora.master_user_secret_arn
}

output "stream_processor_function_name" {
  description = "Name of the stream_processor function."
  value       = module.stream_ingest.function_name
}

output "firehose_transform_function_name" {
  description = "Name of the firehose_transform function."
  value       = module.firehose.transform_function_name
}

output "aurora_loader_function_name" {
  description = "Name of the aurora_loader function."
  value       = module.loader.function_name
}

output "stream_dead_letter_queue_url" {
  description = "Dead-letter queue of the stream mapping (and of oversized change records)."
  value       = module.stream_ingest.dead_letter_queue_url
}

output "loader_dead_letter_queue_url" {
  description = "Dead-letter queue of the loader's failed S3 events."
  value       = module.loader.dead_letter_queue_url
}

output "dashboard_name" {
  description = "CloudWatch dashboard of the pipeline."
  value       = module.monitoring.dashboard_name
}

output "alarm_topic_arn" {
  description = "SNS topic the alarms notify."
  value       = module.monitoring.sns_topic_arn
}
