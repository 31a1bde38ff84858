mock_provider "aws" {
  mock_data "aws_partition" {
    defaults = {
      partition = "aws"
    }
  }

  mock_data "aws_region" {
    defaults = {
      name = "eu-west-1"
    }
  }

  mock_data "aws_caller_identity" {
    defaults = {
      account_id = "123456789012"
    }
  }

  mock_data "aws_iam_policy_document" {
    defaults = {
      json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}"
    }
  }

  mock_resource "aws_kms_key" {
    defaults = {
      arn = "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555"
    }
  }

  mock_resource "aws_iam_role" {
    defaults = {
      arn = "arn:aws:iam::123456789012:role/test-s3-load"
    }
  }

  mock_resource "aws_rds_cluster" {
    defaults = {
      arn = "arn:aws:rds:eu-west-1:123456789012:cluster:test"
    }
  }
}

variables {
  name                   = "test"
  subnet_ids             = ["subnet-0a1", "subnet-0b2"]
  vpc_security_group_ids = ["sg-0a0a0a"]
  delivery_bucket_arn    = "arn:aws:s3:::test-delivery"
}

# apply (against the mock) so the ARNs wired between resources are known to the assertions
run "default_is_encrypted_private_serverless_v2_with_s3_load_role" {
  command = apply

  assert {
    condition     = aws_rds_cluster.this[0].engine == "aurora-mysql" && startswith(aws_rds_cluster.this[0].engine_version, "8.0.mysql_aurora.3.")
    error_message = "expected Aurora MySQL 3"
  }

  assert {
    condition     = aws_rds_cluster.this[0].manage_master_user_password && aws_rds_cluster.this[0].master_user_secret_kms_key_id == aws_kms_key.this[0].arn
    error_message = "the master password must be managed in Secrets Manager, encrypted with the module's key"
  }

  assert {
    condition     = aws_rds_cluster.this[0].storage_encrypted && aws_rds_cluster.this[0].kms_key_id == aws_kms_key.this[0].arn && aws_kms_key.this[0].enable_key_rotation
    error_message = "storage must be encrypted with the module's rotating KMS key"
  }

  assert {
    condition     = aws_rds_cluster.this[0].iam_database_authentication_enabled
    error_message = "IAM database authentication must be on"
  }

  assert {
    condition     = aws_rds_cluster.this[0].deletion_protection && !aws_rds_cluster.this[0].skip_final_snapshot && aws_rds_cluster.this[0].final_snapshot_identifier == "test-final"
    error_message = "deletion protection and a final snapshot must be on by default"
  }

  assert {
    condition     = aws_rds_cluster.this[0].serverlessv2_scaling_configuration[0].min_capacity == 0.5 && aws_rds_cluster.this[0].serverlessv2_scaling_configuration[0].max_capacity == 4
    error_message = "db.serverless must set the Serverless v2 scaling configuration"
  }

  assert {
    condition     = length(aws_rds_cluster_instance.this) == 2 && alltrue([for i in aws_rds_cluster_instance.this : !i.publicly_accessible && i.instance_class == "db.serverless"])
    error_message = "expected two private db.serverless instances"
  }

  assert {
    condition     = aws_rds_cluster.this[0].backup_retention_period == 7 && aws_rds_cluster.this[0].copy_tags_to_snapshot
    error_message = "expected a week of backups and tags copied to snapshots"
  }

  assert {
    condition     = contains([for p in aws_rds_cluster_parameter_group.this[0].parameter : "${p.name}=${p.value}"], "require_secure_transport=ON")
    error_message = "the parameter group must require TLS"
  }

  assert {
    condition     = contains([for p in aws_rds_cluster_parameter_group.this[0].parameter : "${p.name}=${p.value}"], "aws_default_s3_role=arn:aws:iam::123456789012:role/test-s3-load")
    error_message = "aws_default_s3_role must name the S3 load role"
  }

  assert {
    condition     = aws_rds_cluster_role_association.s3_load[0].feature_name == "" && aws_rds_cluster_role_association.s3_load[0].role_arn == aws_iam_role.s3_load[0].arn
    error_message = "the S3 load role must be associated with the cluster (no feature name for aurora-mysql)"
  }

  assert {
    condition     = length(aws_iam_role.monitoring) == 1 && aws_rds_cluster_instance.this[0].monitoring_interval == 60
    error_message = "expected Enhanced Monitoring with its role"
  }

  assert {
    condition     = output.s3_load_role_arn == "arn:aws:iam::123456789012:role/test-s3-load" && output.security_group_id == "sg-0a0a0a" && output.port == 3306
    error_message = "outputs must describe the created cluster"
  }
}

run "provisioned_instances_have_no_serverless_scaling" {
  command = plan

  variables {
    instance_class = "db.r7g.large"
    instance_count = 1
  }

  assert {
    condition     = length(aws_rds_cluster.this[0].serverlessv2_scaling_configuration) == 0 && aws_rds_cluster_instance.this[0].instance_class == "db.r7g.large"
    error_message = "a provisioned class must not set a Serverless v2 scaling configuration"
  }
}

run "given_kms_key_and_switches_off" {
  command = plan

  variables {
    create_kms_key                  = false
    kms_key_arn                     = "arn:aws:kms:eu-west-1:123456789012:key/given"
    create_s3_load_role             = false
    monitoring_interval             = 0
    deletion_protection             = false
    skip_final_snapshot             = true
    delivery_bucket_arn             = null
    enabled_cloudwatch_logs_exports = ["error"]
  }

  assert {
    condition     = length(aws_kms_key.this) == 0 && aws_rds_cluster.this[0].kms_key_id == "arn:aws:kms:eu-west-1:123456789012:key/given"
    error_message = "create_kms_key = false must create no key and use kms_key_arn"
  }

  assert {
    condition     = length(aws_iam_role.s3_load) == 0 && length(aws_rds_cluster_role_association.s3_load) == 0 && output.s3_load_role_arn == null
    error_message = "create_s3_load_role = false must create no role and no association"
  }

  assert {
    condition     = !contains([for p in aws_rds_cluster_parameter_group.this[0].parameter : p.name], "aws_default_s3_role") && !contains([for p in aws_rds_cluster_parameter_group.this[0].parameter : p.name], "server_audit_logging")
    error_message = "without the S3 load role and the audit log, their parameters must be absent"
  }

  assert {
    condition     = length(aws_iam_role.monitoring) == 0 && aws_rds_cluster_instance.this[0].monitoring_interval == 0
    error_message = "monitoring_interval = 0 must create no monitoring role"
  }

  assert {
    condition     = !aws_rds_cluster.this[0].deletion_protection && aws_rds_cluster.this[0].skip_final_snapshot
    error_message = "deletion protection and the final snapshot must be switchable for disposable stacks"
  }
}

run "existing_cluster_creates_nothing_and_passes_through" {
  command = plan

  variables {
    create                          = false
    subnet_ids                      = []
    vpc_security_group_ids          = []
    existing_cluster_identifier     = "estate-db"
    existing_cluster_endpoint       = "estate-db.cluster-abc.eu-west-1.rds.amazonaws.com"
    existing_reader_endpoint        = "estate-db.cluster-ro-abc.eu-west-1.rds.amazonaws.com"
    existing_master_user_secret_arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:estate-db-AbCdEf"
    existing_security_group_id      = "sg-0e0e0e"
    port                            = 3307
  }

  assert {
    condition = (length(aws_rds_cluster.this) + length(aws_rds_cluster_instance.this) + length(aws_db_subnet_group.this)
      + length(aws_rds_cluster_parameter_group.this) + length(aws_kms_key.this) + length(aws_iam_role.s3_load)
    + length(aws_rds_cluster_role_association.s3_load) + length(aws_iam_role.monitoring)) == 0
    error_message = "create = false must create nothing"
  }

  assert {
    condition     = output.cluster_id == "estate-db" && output.cluster_endpoint == "estate-db.cluster-abc.eu-west-1.rds.amazonaws.com" && output.port == 3307
    error_message = "the existing cluster's endpoint and port must pass through"
  }

  assert {
    condition     = output.master_user_secret_arn == "arn:aws:secretsmanager:eu-west-1:123456789012:secret:estate-db-AbCdEf" && output.security_group_id == "sg-0e0e0e"
    error_message = "the existing secret and security group must pass through"
  }
}

run "one_subnet_is_rejected" {
  command = plan

  variables {
    subnet_ids = ["subnet-0a1"]
  }

  expect_failures = [var.subnet_ids]
}

run "no_subnets_for_a_new_cluster_is_rejected" {
  command = plan

  variables {
    subnet_ids = []
  }

  expect_failures = [aws_db_subnet_group.this]
}

run "bad_instance_class_is_rejected" {
  command = plan

  variables {
    instance_class = "m5.large"
  }

  expect_failures = [var.instance_class]
}

run "non_mysql3_engine_version_is_rejected" {
  command = plan

  variables {
    engine_version = "5.7.mysql_aurora.2.11.2"
  }

  expect_failures = [var.engine_version]
}

run "min_capacity_above_max_is_rejected" {
  command = plan

  variables {
    serverlessv2_min_capacity = 8
    serverlessv2_max_capacity = 4
  }

  expect_failures = [aws_rds_cluster.this]
}

run "fractional_acu_step_is_rejected" {
  command = plan

  variables {
    serverlessv2_max_capacity = 4.3
  }

  expect_failures = [var.serverlessv2_max_capacity]
}

run "s3_load_role_without_bucket_is_rejected" {
  command = plan

  variables {
    delivery_bucket_arn = null
  }

  expect_failures = [data.aws_iam_policy_document.s3_load]
}

run "existing_cluster_without_endpoint_is_rejected" {
  command = plan

  variables {
    create = false
  }

  expect_failures = [output.cluster_endpoint]
}

run "unknown_log_export_is_rejected" {
  command = plan

  variables {
    enabled_cloudwatch_logs_exports = ["postgresql"]
  }

  expect_failures = [var.enabled_cloudwatch_logs_exports]
}
