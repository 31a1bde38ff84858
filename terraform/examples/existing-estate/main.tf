# ddb2aurora plugged into an estate that already has the VPC, the DynamoDB table and the
# Aurora cluster: only the pipeline in between is created.

locals {
  package_dir = coalesce(var.package_dir, "${path.module}/../../../dist")
}

module "table_mapping" {
  source = "../../modules/table-mapping"

  table_mapping  = file(coalesce(var.table_mapping_path, "${path.module}/../../../mappings/web_analytics.json"))
  parameter_name = "/${var.name_prefix}/table-mapping"
}

module "firehose" {
  source = "../../modules/firehose"

  name                         = var.name_prefix
  bucket_name                  = "${var.name_prefix}-delivery-${data.aws_caller_identity.current.account_id}-${var.region}"
  package_path                 = "${local.package_dir}/firehose_transform.zip"
  table_mapping_parameter_name = module.table_mapping.parameter_name
  table_mapping_parameter_arn  = module.table_mapping.parameter_arn
}

module "stream_ingest" {
  source = "../../modules/stream-ingest"

  name                 = var.name_prefix
  create_table         = false
  table_name           = var.table_name
  stream_arn           = var.stream_arn
  package_path         = "${local.package_dir}/stream_processor.zip"
  log_kms_key_arn      = module.firehose.kms_key_arn
  delivery_stream_name = module.firehose.delivery_stream_name
  delivery_stream_arn  = module.firehose.delivery_stream_arn
}

module "loader" {
  source = "../../modules/loader"

  name                         = var.name_prefix
  package_path                 = "${local.package_dir}/aurora_loader.zip"
  log_kms_key_arn              = module.firehose.kms_key_arn
  subnet_ids                   = var.subnet_ids
  security_group_ids           = [var.loader_security_group_id]
  table_mapping_parameter_name = module.table_mapping.parameter_name
  table_mapping_parameter_arn  = module.table_mapping.parameter_arn
  db_host                      = var.db_host
  db_port                      = var.db_port
  db_name                      = var.db_name
  db_secret_arn                = var.db_secret_arn
  db_secret_kms_key_arn        = var.db_secret_kms_key_arn
  load_method                  = var.load_method
  bucket_name                  = module.firehose.bucket_name
  bucket_arn                   = module.firehose.bucket_arn
  bucket_kms_key_arn           = module.firehose.kms_key_arn
  data_prefix                  = module.firehose.data_prefix
}

data "aws_caller_identity" "current" {}
