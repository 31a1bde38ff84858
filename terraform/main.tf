data "aws_caller_identity" "current" {}

locals {
  table_mapping = file(coalesce(var.table_mapping_path, "${path.module}/../mappings/web_analytics.json"))
  package_dir   = coalesce(var.package_dir, "${path.module}/../dist")
  architectures = [var.architecture]
  bucket_name   = "${var.name_prefix}-delivery-${data.aws_caller_identity.current.account_id}-${var.region}"
}

module "table_mapping" {
  source = "./modules/table-mapping"

  table_mapping  = local.table_mapping
  parameter_name = "/${var.name_prefix}/table-mapping"
}

module "network" {
  source = "./modules/network"

  name = var.name_prefix
  # The endpoints' default policies read only these; the database secret is Aurora's, made
  # after the network, so its endpoint stays scoped to the account's secrets (no cycle).
  s3_endpoint_bucket_arns     = [module.firehose.bucket_arn]
  ssm_endpoint_parameter_arns = [module.table_mapping.parameter_arn]
}

module "stream_ingest" {
  source = "./modules/stream-ingest"

  name                  = var.name_prefix
  table_name            = coalesce(module.table_mapping.source_table, module.table_mapping.target_table)
  hash_key              = module.table_mapping.dynamodb_key_attributes[0]
  range_key             = try(module.table_mapping.dynamodb_key_attributes[1], null)
  deletion_protection   = var.deletion_protection
  table_kms_key_arn     = module.firehose.kms_key_arn
  package_path          = "${local.package_dir}/stream_processor.zip"
  architectures         = local.architectures
  log_retention_in_days = var.log_retention_in_days
  log_kms_key_arn       = module.firehose.kms_key_arn
  delivery_stream_name  = module.firehose.delivery_stream_name
  delivery_stream_arn   = module.firehose.delivery_stream_arn
  event_source_mapping  = var.event_source_mapping
}

module "firehose" {
  source = "./modules/firehose"

  name                         = var.name_prefix
  bucket_name                  = local.bucket_name
  bucket_force_destroy         = var.bucket_force_destroy
  data_expiration_days         = var.data_expiration_days
  buffering_size               = var.buffering_size
  buffering_interval           = var.buffering_interval
  package_path                 = "${local.package_dir}/firehose_transform.zip"
  architectures                = local.architectures
  log_retention_in_days        = var.log_retention_in_days
  table_mapping_parameter_name = module.table_mapping.parameter_name
  table_mapping_parameter_arn  = module.table_mapping.parameter_arn
}

module "aurora" {
  source = "./modules/aurora"

  name                        = var.name_prefix
  subnet_ids                  = module.network.private_subnet_ids
  vpc_security_group_ids      = [module.network.aurora_security_group_id]
  instance_class              = var.aurora.instance_class
  instance_count              = var.aurora.instance_count
  serverlessv2_min_capacity   = var.aurora.serverlessv2_min_capacity
  serverlessv2_max_capacity   = var.aurora.serverlessv2_max_capacity
  database_name               = var.aurora.database_name
  create_s3_load_role         = var.create_s3_load_role
  delivery_bucket_arn         = module.firehose.bucket_arn
  delivery_object_prefix      = module.firehose.data_prefix
  delivery_bucket_kms_key_arn = module.firehose.kms_key_arn
  deletion_protection         = var.deletion_protection
  skip_final_snapshot         = var.skip_final_snapshot
}

module "loader" {
  source = "./modules/loader"

  name                         = var.name_prefix
  package_path                 = "${local.package_dir}/aurora_loader.zip"
  architectures                = local.architectures
  log_retention_in_days        = var.log_retention_in_days
  log_kms_key_arn              = module.firehose.kms_key_arn
  subnet_ids                   = module.network.private_subnet_ids
  security_group_ids           = [module.network.loader_security_group_id]
  table_mapping_parameter_name = module.table_mapping.parameter_name
  table_mapping_parameter_arn  = module.table_mapping.parameter_arn
  db_host                      = module.aurora.cluster_endpoint
  db_port                      = module.aurora.port
  db_name                      = module.aurora.database_name
  db_secret_arn                = module.aurora.master_user_secret_arn
  db_secret_kms_key_arn        = module.aurora.master_user_secret_kms_key_arn
  db_tls_mode                  = var.db_tls_mode
  load_method                  = var.load_method
  bucket_name                  = module.firehose.bucket_name
  bucket_arn                   = module.firehose.bucket_arn
  bucket_kms_key_arn           = module.firehose.kms_key_arn
  data_prefix                  = module.firehose.data_prefix
}

module "monitoring" {
  source = "./modules/monitoring"

  name                             = var.name_prefix
  stream_processor_function_name   = module.stream_ingest.function_name
  firehose_transform_function_name = module.firehose.transform_function_name
  loader_function_name             = module.loader.function_name
  stream_dlq_name                  = module.stream_ingest.dead_letter_queue_name
  loader_dlq_name                  = module.loader.dead_letter_queue_name
  delivery_stream_name             = module.firehose.delivery_stream_name
  cluster_id                       = module.aurora.cluster_id
  create_sns_topic                 = var.alarm_sns_topic_arn == null
  sns_topic_arn                    = var.alarm_sns_topic_arn
}
