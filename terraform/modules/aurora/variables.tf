variable "create" {
  description = "Create the Aurora MySQL cluster. Set false to use an existing cluster given by the existing_* variables; the module then creates nothing and passes them through."
  type        = bool
  default     = true
}

variable "name" {
  description = "Cluster identifier and name prefix of the resources this module creates."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,50}[a-z0-9]$", var.name)) && !strcontains(var.name, "--")
    error_message = "name must be a valid cluster identifier: 2-52 lowercase letters, digits or hyphens, starting with a letter, no trailing or double hyphen."
  }
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}

################################################################################
# Engine and capacity
################################################################################

variable "engine_version" {
  description = "Aurora MySQL 3 engine version (MySQL 8.0 compatible)."
  type        = string
  default     = "8.0.mysql_aurora.3.08.2"

  validation {
    condition     = can(regex("^8\\.0\\.mysql_aurora\\.3\\.[0-9]{2}\\.[0-9]+$", var.engine_version))
    error_message = "engine_version must be an Aurora MySQL 3 version such as 8.0.mysql_aurora.3.08.2."
  }
}

variable "instance_class" {
  description = "Instance class of the cluster's instances: db.serverless for Aurora Serverless v2, or a provisioned class such as db.r7g.large."
  type        = string
  default     = "db.serverless"

  validation {
    condition     = var.instance_class == "db.serverless" || can(regex("^db\\.(r[5-8][a-z]*|x2[a-z]*|t3|t4g)\\.([0-9]*xlarge|large|medium)$", var.instance_class))
    error_message = "instance_class must be db.serverless or an Aurora MySQL instance class such as db.r7g.large or db.t4g.medium."
  }
}

variable "instance_count" {
  description = "Number of instances: the writer plus readers in other Availability Zones."
  type        = number
  default     = 2

  validation {
    condition     = var.instance_count >= 1 && var.instance_count <= 16 && floor(var.instance_count) == var.instance_count
    error_message = "instance_count must be a whole number from 1 to 16."
  }
}

variable "serverlessv2_min_capacity" {
  description = "Serverless v2 minimum capacity in ACUs (0 lets the cluster pause; used when instance_class is db.serverless)."
  type        = number
  default     = 0.5

  validation {
    condition     = var.serverlessv2_min_capacity >= 0 && var.serverlessv2_min_capacity <= 256 && floor(var.serverlessv2_min_capacity * 2) == var.serverlessv2_min_capacity * 2
    error_message = "serverlessv2_min_capacity must be 0-256 ACUs in steps of 0.5."
  }
}

variable "serverlessv2_max_capacity" {
  description = "Serverless v2 maximum capacity in ACUs (used when instance_class is db.serverless)."
  type        = number
  default     = 4

  validation {
    condition     = var.serverlessv2_max_capacity >= 1 && var.serverlessv2_max_capacity <= 256 && floor(var.serverlessv2_max_capacity * 2) == var.serverlessv2_max_capacity * 2
    error_message = "serverlessv2_max_capacity must be 1-256 ACUs in steps of 0.5."
  }
}

variable "database_name" {
  description = "Database (schema) the cluster creates and the loader writes to."
  type        = string
  default     = "ddb2aurora"

  validation {
    condition     = can(regex("^[A-Za-z][A-Za-z0-9_]{0,63}$", var.database_name))
    error_message = "database_name must start with a letter and hold up to 64 letters, digits or underscores."
  }
}

variable "master_username" {
  description = "Master user name; its password is generated and kept in Secrets Manager by RDS."
  type        = string
  default     = "ddb2aurora_admin"

  validation {
    condition     = can(regex("^[A-Za-z][A-Za-z0-9_]{0,15}$", var.master_username)) && !contains(["admin", "root", "rdsadmin"], lower(var.master_username))
    error_message = "master_username must start with a letter, hold up to 16 letters, digits or underscores, and not be a reserved word (admin, root, rdsadmin)."
  }
}

variable "port" {
  description = "Port the cluster listens on (for create = false: the existing cluster's port)."
  type        = number
  default     = 3306

  validation {
    condition     = var.port >= 1150 && var.port <= 65535
    error_message = "port must be between 1150 and 65535."
  }
}

################################################################################
# Network
################################################################################

variable "subnet_ids" {
  description = "Private subnets (in at least two Availability Zones) of the cluster's DB subnet group."
  type        = list(string)
  default     = []

  validation {
    condition     = length(var.subnet_ids) == 0 || length(var.subnet_ids) >= 2
    error_message = "subnet_ids needs at least two subnets (in two Availability Zones)."
  }
}

variable "vpc_security_group_ids" {
  description = "Security groups of the cluster (the network module's aurora_security_group_id)."
  type        = list(string)
  default     = []
}

################################################################################
# Encryption
################################################################################

variable "create_kms_key" {
  description = "Create a KMS key (rotation on) for storage, the master secret and Performance Insights. Set false to use kms_key_arn."
  type        = bool
  default     = true
}

variable "kms_key_arn" {
  description = "KMS key ARN for storage encryption when create_kms_key is false."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-zA-Z-]*:kms:", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN (arn:aws:kms:...)."
  }
}

variable "kms_key_deletion_window_in_days" {
  description = "Waiting period before the created KMS key is deleted."
  type        = number
  default     = 30

  validation {
    condition     = var.kms_key_deletion_window_in_days >= 7 && var.kms_key_deletion_window_in_days <= 30
    error_message = "kms_key_deletion_window_in_days must be 7-30."
  }
}

variable "master_user_secret_kms_key_id" {
  description = "KMS key (ARN, ID or alias) that encrypts the managed master user secret. Null: the cluster's storage key."
  type        = string
  default     = null
}

################################################################################
# LOAD DATA FROM S3
################################################################################

variable "create_s3_load_role" {
  description = "Create the IAM role that LOAD DATA FROM S3 assumes, associate it with the cluster and set it as aws_default_s3_role. Turn off where the emulator cannot remove a role association (moto) or when load_method is local."
  type        = bool
  default     = true
}

variable "delivery_bucket_arn" {
  description = "ARN of the bucket Firehose delivers to; the S3 load role may read only this bucket (under delivery_object_prefix)."
  type        = string
  default     = null

  validation {
    condition     = var.delivery_bucket_arn == null || can(regex("^arn:aws[a-zA-Z-]*:s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.delivery_bucket_arn))
    error_message = "delivery_bucket_arn must be an S3 bucket ARN (arn:aws:s3:::bucket-name)."
  }
}

variable "delivery_object_prefix" {
  description = "Key prefix of the loadable objects in the delivery bucket; the S3 load role may read only keys under it."
  type        = string
  default     = "data/"

  validation {
    condition     = !startswith(var.delivery_object_prefix, "/") && !strcontains(var.delivery_object_prefix, "*")
    error_message = "delivery_object_prefix must not start with / or contain *."
  }
}

variable "delivery_bucket_kms_key_arn" {
  description = "KMS key that encrypts the delivery bucket's objects; the S3 load role gets kms:Decrypt on it. Null when the bucket uses SSE-S3."
  type        = string
  default     = null

  validation {
    condition     = var.delivery_bucket_kms_key_arn == null || can(regex("^arn:aws[a-zA-Z-]*:kms:", var.delivery_bucket_kms_key_arn))
    error_message = "delivery_bucket_kms_key_arn must be a KMS key ARN (arn:aws:kms:...)."
  }
}

################################################################################
# Parameters
################################################################################

variable "cluster_parameters" {
  description = "Extra cluster parameters, added to the module's own (require_secure_transport, aws_default_s3_role, binlog_format, audit logging)."
  type = list(object({
    name         = string
    value        = string
    apply_method = optional(string, "immediate")
  }))
  default = []

  validation {
    condition     = alltrue([for p in var.cluster_parameters : contains(["immediate", "pending-reboot"], p.apply_method)])
    error_message = "cluster_parameters apply_method must be immediate or pending-reboot."
  }
}

################################################################################
# Backups, protection, logs, monitoring
################################################################################

variable "backup_retention_period" {
  description = "Days of automated backups (point-in-time restore window)."
  type        = number
  default     = 7

  validation {
    condition     = var.backup_retention_period >= 1 && var.backup_retention_period <= 35
    error_message = "backup_retention_period must be 1-35 days."
  }
}

variable "preferred_backup_window" {
  description = "Daily backup window, UTC (hh24:mi-hh24:mi)."
  type        = string
  default     = "02:00-03:00"

  validation {
    condition     = can(regex("^([01][0-9]|2[0-3]):[0-5][0-9]-([01][0-9]|2[0-3]):[0-5][0-9]$", var.preferred_backup_window))
    error_message = "preferred_backup_window must look like 02:00-03:00."
  }
}

variable "preferred_maintenance_window" {
  description = "Weekly maintenance window, UTC (ddd:hh24:mi-ddd:hh24:mi); must not overlap the backup window."
  type        = string
  default     = "sun:04:00-sun:05:00"

  validation {
    condition     = can(regex("^(mon|tue|wed|thu|fri|sat|sun):([01][0-9]|2[0-3]):[0-5][0-9]-(mon|tue|wed|thu|fri|sat|sun):([01][0-9]|2[0-3]):[0-5][0-9]$", var.preferred_maintenance_window))
    error_message = "preferred_maintenance_window must look like sun:04:00-sun:05:00."
  }
}

variable "deletion_protection" {
  description = "Protect the cluster from deletion. Turn off only for disposable (test) stacks."
  type        = bool
  default     = true
}

variable "skip_final_snapshot" {
  description = "Delete without a final snapshot. Default false: a snapshot named <name>-final is taken on destroy."
  type        = bool
  default     = false
}

variable "apply_immediately" {
  description = "Apply cluster and instance changes at once instead of in the next maintenance window."
  type        = bool
  default     = false
}

variable "enabled_cloudwatch_logs_exports" {
  description = "Logs exported to CloudWatch Logs (audit also turns on server_audit_logging in the parameter group)."
  type        = list(string)
  default     = ["audit", "error", "slowquery"]

  validation {
    condition     = alltrue([for log in var.enabled_cloudwatch_logs_exports : contains(["audit", "error", "general", "slowquery", "iam-db-auth-error"], log)])
    error_message = "enabled_cloudwatch_logs_exports may contain only audit, error, general, slowquery and iam-db-auth-error."
  }
}

variable "performance_insights_enabled" {
  description = "Turn on Performance Insights (encrypted with the cluster's key)."
  type        = bool
  default     = true
}

variable "performance_insights_retention_period" {
  description = "Performance Insights retention in days: 7 (free tier), 31-731 in multiples of 31, or 731."
  type        = number
  default     = 7

  validation {
    condition     = var.performance_insights_retention_period == 7 || var.performance_insights_retention_period == 731 || (var.performance_insights_retention_period >= 31 && var.performance_insights_retention_period <= 713 && var.performance_insights_retention_period % 31 == 0)
    error_message = "performance_insights_retention_period must be 7, a multiple of 31 up to 713, or 731."
  }
}

variable "monitoring_interval" {
  description = "Enhanced Monitoring interval in seconds (0 turns it off)."
  type        = number
  default     = 60

  validation {
    condition     = contains([0, 1, 5, 10, 15, 30, 60], var.monitoring_interval)
    error_message = "monitoring_interval must be one of 0, 1, 5, 10, 15, 30, 60."
  }
}

variable "create_monitoring_role" {
  description = "Create the Enhanced Monitoring role (when monitoring_interval > 0). Set false to use monitoring_role_arn."
  type        = bool
  default     = true
}

variable "monitoring_role_arn" {
  description = "Existing Enhanced Monitoring role when create_monitoring_role is false."
  type        = string
  default     = null

  validation {
    condition     = var.monitoring_role_arn == null || can(regex("^arn:aws[a-zA-Z-]*:iam::[0-9]{12}:role/", var.monitoring_role_arn))
    error_message = "monitoring_role_arn must be an IAM role ARN."
  }
}

variable "auto_minor_version_upgrade" {
  description = "Apply minor engine upgrades in the maintenance window."
  type        = bool
  default     = true
}

################################################################################
# Existing cluster (create = false)
################################################################################

variable "existing_cluster_identifier" {
  description = "Identifier of the existing cluster (create = false); used by the monitoring alarms."
  type        = string
  default     = null
}

variable "existing_cluster_endpoint" {
  description = "Writer endpoint of the existing cluster (create = false)."
  type        = string
  default     = null
}

variable "existing_reader_endpoint" {
  description = "Reader endpoint of the existing cluster (create = false)."
  type        = string
  default     = null
}

variable "existing_master_user_secret_arn" {
  description = "Secrets Manager secret (username, password) the loader uses with the existing cluster (create = false). Null when the loader uses IAM database authentication."
  type        = string
  default     = null

  validation {
    condition     = var.existing_master_user_secret_arn == null || can(regex("^arn:aws[a-zA-Z-]*:secretsmanager:", var.existing_master_user_secret_arn))
    error_message = "existing_master_user_secret_arn must be a Secrets Manager secret ARN."
  }
}

variable "existing_security_group_id" {
  description = "Security group of the existing cluster (create = false); the loader's security group must be allowed in it."
  type        = string
  default     = null

  validation {
    condition     = var.existing_security_group_id == null || can(regex("^sg-[0-9a-f]+$", var.existing_security_group_id))
    error_message = "existing_security_group_id must look like sg-0123abcd."
  }
}
