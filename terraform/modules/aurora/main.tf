data "aws_partition" "current" {}

data "aws_region" "current" {}

data "aws_caller_identity" "current" {}

locals {
  serverless  = var.instance_class == "db.serverless"
  kms_key_arn = var.create_kms_key ? try(aws_kms_key.this[0].arn, null) : var.kms_key_arn

  # Parameters this module owns; cluster_parameters adds to them (and wins on a name clash).
  module_parameters = concat(
    [
      # The loader connects with TLS; refuse anything else.
      { name = "require_secure_transport", value = "ON", apply_method = "immediate" },
      # Nothing replicates out of this cluster; binary logging would only cost write throughput.
      { name = "binlog_format", value = "OFF", apply_method = "pending-reboot" },
    ],
    var.create_s3_load_role ? [
      { name = "aws_default_s3_role", value = try(aws_iam_role.s3_load[0].arn, ""), apply_method = "pending-reboot" },
    ] : [],
    contains(var.enabled_cloudwatch_logs_exports, "audit") ? [
      { name = "server_audit_logging", value = "1", apply_method = "immediate" },
      { name = "server_audit_events", value = "CONNECT,QUERY_DCL,QUERY_DDL", apply_method = "immediate" },
    ] : [],
  )
  cluster_parameters = values(merge(
    { for p in local.module_parameters : p.name => p },
    { for p in var.cluster_parameters : p.name => p },
  ))
}

resource "aws_db_subnet_group" "this" {
  count = var.create ? 1 : 0

  name        = var.name
  description = "Private subnets of the ${var.name} Aurora cluster"
  subnet_ids  = var.subnet_ids

  tags = var.tags

  lifecycle {
    precondition {
      condition     = length(var.subnet_ids) >= 2
      error_message = "create = true needs subnet_ids with at least two private subnets in two Availability Zones."
    }
  }
}

resource "aws_rds_cluster_parameter_group" "this" {
  count = var.create ? 1 : 0

  name_prefix = "${var.name}-"
  description = "ddb2aurora cluster parameters for ${var.name}"
  family      = "aurora-mysql8.0"

  dynamic "parameter" {
    for_each = local.cluster_parameters

    content {
      name         = parameter.value.name
      value        = parameter.value.value
      apply_method = parameter.value.apply_method
    }
  }

  tags = var.tags

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_rds_cluster" "this" {
  #checkov:skip=CKV_AWS_326:backtrack is not needed to undo a bad load (loads are idempotent and replayable from S3, backups give point-in-time restore) and is not supported with Serverless v2 on every version
  #checkov:skip=CKV2_AWS_8:backups are the cluster's automated backups (backup_retention_period, point-in-time restore); an AWS Backup plan is an estate-wide choice outside this module
  count = var.create ? 1 : 0

  cluster_identifier = var.name
  engine             = "aurora-mysql"
  engine_mode        = "provisioned"
  engine_version     = var.engine_version
  database_name      = var.database_name
  port               = var.port

  master_username               = var.master_username
  manage_master_user_password   = true
  master_user_secret_kms_key_id = var.master_user_secret_kms_key_id != null ? var.master_user_secret_kms_key_id : local.kms_key_arn

  db_subnet_group_name            = aws_db_subnet_group.this[0].name
  vpc_security_group_ids          = var.vpc_security_group_ids
  db_cluster_parameter_group_name = aws_rds_cluster_parameter_group.this[0].name

  storage_encrypted                   = true
  kms_key_id                          = local.kms_key_arn
  iam_database_authentication_enabled = true

  backup_retention_period      = var.backup_retention_period
  preferred_backup_window      = var.preferred_backup_window
  preferred_maintenance_window = var.preferred_maintenance_window
  copy_tags_to_snapshot        = true
  deletion_protection          = var.deletion_protection
  skip_final_snapshot          = var.skip_final_snapshot
  final_snapshot_identifier    = "${var.name}-final"

  enabled_cloudwatch_logs_exports = var.enabled_cloudwatch_logs_exports
  apply_immediately               = var.apply_immediately

  dynamic "serverlessv2_scaling_configuration" {
    for_each = local.serverless ? [1] : []

    content {
      min_capacity = var.serverlessv2_min_capacity
      max_capacity = var.serverlessv2_max_capacity
    }
  }

  tags = var.tags

  lifecycle {
    precondition {
      condition     = length(var.vpc_security_group_ids) > 0
      error_message = "create = true needs vpc_security_group_ids (the network module's aurora_security_group_id)."
    }

    precondition {
      condition     = var.create_kms_key || var.kms_key_arn != null
      error_message = "create_kms_key = false needs kms_key_arn."
    }

    precondition {
      condition     = !local.serverless || var.serverlessv2_min_capacity <= var.serverlessv2_max_capacity
      error_message = "serverlessv2_min_capacity must not exceed serverlessv2_max_capacity."
    }
  }
}

resource "aws_rds_cluster_instance" "this" {
  count = var.create ? var.instance_count : 0

  identifier         = "${var.name}-${count.index + 1}"
  cluster_identifier = aws_rds_cluster.this[0].id
  engine             = aws_rds_cluster.this[0].engine
  engine_version     = aws_rds_cluster.this[0].engine_version
  instance_class     = var.instance_class

  db_subnet_group_name = aws_db_subnet_group.this[0].name
  publicly_accessible  = false

  performance_insights_enabled          = var.performance_insights_enabled
  performance_insights_kms_key_id       = var.performance_insights_enabled ? local.kms_key_arn : null
  performance_insights_retention_period = var.performance_insights_enabled ? var.performance_insights_retention_period : null

  monitoring_interval = var.monitoring_interval
  monitoring_role_arn = var.monitoring_interval > 0 ? local.monitoring_role_arn : null

  auto_minor_version_upgrade = var.auto_minor_version_upgrade
  copy_tags_to_snapshot      = true
  apply_immediately          = var.apply_immediately

  tags = var.tags

  # RDS checks the monitoring role's permissions when the instance is created.
  depends_on = [aws_iam_role_policy.monitoring]
}
