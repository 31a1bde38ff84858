variable "name" {
  description = "Prefix of every resource name (the function is <name>-aurora-loader)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,38}$", var.name))
    error_message = "name: 2 to 39 lower-case letters, digits or '-', starting with a letter."
  }
}

################################################################################
# Function
################################################################################

variable "package_path" {
  description = "Path of dist/aurora_loader.zip."
  type        = string
}

variable "architectures" {
  description = "Instruction set of the function: [\"arm64\"] or [\"x86_64\"]."
  type        = list(string)
  default     = ["arm64"]
}

variable "memory_size" {
  description = "Memory of the loader in MB."
  type        = number
  default     = 512
}

variable "timeout" {
  description = "Timeout of the loader in seconds (one S3 object per invocation)."
  type        = number
  default     = 300
}

variable "reserved_concurrent_executions" {
  description = "Reserved concurrency of the loader, which caps the connections it opens on Aurora; -1 leaves it unreserved (the default, because new accounts with a concurrency quota of 10 cannot reserve any)."
  type        = number
  default     = -1
}

variable "tracing_mode" {
  description = "X-Ray tracing mode of the loader."
  type        = string
  default     = "Active"
}

variable "log_retention_in_days" {
  description = "Retention of the loader's log group."
  type        = number
  default     = 365
}

variable "log_kms_key_arn" {
  description = "KMS key of the loader's log group (its policy must allow CloudWatch Logs); null for the service default."
  type        = string
  default     = null
}

variable "environment_variables" {
  description = "Extra environment variables (POWERTOOLS_LOG_LEVEL, DB_TLS_CA_BUNDLE, DB_CONNECT_TIMEOUT_SECONDS, ...); the module sets the ones it owns."
  type        = map(string)
  default     = {}
}

variable "subnet_ids" {
  description = "Private subnets the loader runs in (at least two AZs recommended)."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) >= 1
    error_message = "subnet_ids: the loader runs in the VPC; give at least one private subnet."
  }
}

variable "security_group_ids" {
  description = "Security groups of the loader (the one Aurora admits on its port)."
  type        = list(string)

  validation {
    condition     = length(var.security_group_ids) >= 1
    error_message = "security_group_ids: give at least one security group."
  }
}

variable "table_mapping_parameter_name" {
  description = "SSM parameter holding the table mapping (from the table-mapping module)."
  type        = string
}

variable "table_mapping_parameter_arn" {
  description = "ARN of that parameter (for the ssm:GetParameter grant)."
  type        = string
}

################################################################################
# Database
################################################################################

variable "db_host" {
  description = "Writer endpoint of the Aurora cluster (DB_HOST)."
  type        = string
}

variable "db_port" {
  description = "Port of the cluster (DB_PORT)."
  type        = number
  default     = 3306
}

variable "db_name" {
  description = "Database (schema) to load into (DB_NAME)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z][A-Za-z0-9_]{0,63}$", var.db_name))
    error_message = "db_name: an identifier matching ^[A-Za-z][A-Za-z0-9_]{0,63}$."
  }
}

variable "db_secret_arn" {
  description = "Secrets Manager secret with username and password (DB_SECRET_ARN), for example Aurora's managed master secret. Null when db_iam_auth is true."
  type        = string
  default     = null

  validation {
    condition     = (var.db_secret_arn != null) != var.db_iam_auth
    error_message = "db_secret_arn: give either db_secret_arn or db_iam_auth = true (with db_user), not both and not neither."
  }
}

variable "db_secret_kms_key_arn" {
  description = "Customer managed KMS key encrypting that secret; null when it uses the AWS managed key."
  type        = string
  default     = null
}

variable "db_iam_auth" {
  description = "Connect with an IAM authentication token (DB_IAM_AUTH) as db_user instead of a secret."
  type        = bool
  default     = false
}

variable "db_user" {
  description = "Database user for IAM authentication (DB_USER)."
  type        = string
  default     = null

  validation {
    condition     = !var.db_iam_auth || var.db_user != null
    error_message = "db_user: required when db_iam_auth = true."
  }
}

variable "db_cluster_resource_id" {
  description = "Cluster resource ID (cluster-XXXX) for the rds-db:connect grant when db_iam_auth = true."
  type        = string
  default     = null

  validation {
    condition     = !var.db_iam_auth || var.db_cluster_resource_id != null
    error_message = "db_cluster_resource_id: required when db_iam_auth = true (it scopes rds-db:connect)."
  }
}

variable "db_tls_mode" {
  description = "DB_TLS_MODE: disabled, required (encrypted, certificate not verified) or verify-identity (needs DB_TLS_CA_BUNDLE in environment_variables)."
  type        = string
  default     = "required"

  validation {
    condition     = contains(["disabled", "required", "verify-identity"], var.db_tls_mode)
    error_message = "db_tls_mode: disabled, required or verify-identity."
  }
}

variable "load_method" {
  description = "LOAD_METHOD: s3 (Aurora's LOAD DATA FROM S3, needs the cluster's S3 role) or local (LOAD DATA LOCAL INFILE streamed by the loader)."
  type        = string
  default     = "s3"

  validation {
    condition     = contains(["s3", "local"], var.load_method)
    error_message = "load_method: s3 or local."
  }
}

################################################################################
# S3 trigger
################################################################################

variable "bucket_name" {
  description = "Delivery bucket whose new objects the loader loads."
  type        = string
}

variable "bucket_arn" {
  description = "ARN of the delivery bucket."
  type        = string
}

variable "bucket_kms_key_arn" {
  description = "KMS key of the delivery bucket (kms:Decrypt for the local load method); null when the bucket uses SSE-S3."
  type        = string
  default     = null
}

variable "data_prefix" {
  description = "Static key prefix of loadable objects (the firehose module's data_prefix)."
  type        = string
  default     = "data/"

  validation {
    condition     = length(var.data_prefix) > 0 && !strcontains(var.data_prefix, "!{")
    error_message = "data_prefix: the static part of the delivery prefix, without !{...} expressions."
  }
}

variable "create_bucket_notification" {
  description = "Create the bucket's notification configuration. A bucket has only one: set false when it already has one, and add this function to it there."
  type        = bool
  default     = true
}

variable "async_invoke" {
  description = "Asynchronous invocation (S3 events): retries and maximum event age before the event goes to the dead-letter queue."
  type = object({
    maximum_retry_attempts       = optional(number, 2)
    maximum_event_age_in_seconds = optional(number, 21600)
  })
  default = {}

  validation {
    condition     = var.async_invoke.maximum_retry_attempts >= 0 && var.async_invoke.maximum_retry_attempts <= 2
    error_message = "async_invoke.maximum_retry_attempts: between 0 and 2."
  }

  validation {
    condition     = var.async_invoke.maximum_event_age_in_seconds >= 60 && var.async_invoke.maximum_event_age_in_seconds <= 21600
    error_message = "async_invoke.maximum_event_age_in_seconds: between 60 and 21600."
  }
}

################################################################################
# Dead-letter queue
################################################################################

variable "create_dead_letter_queue" {
  description = "Create the SQS queue that receives S3 events the loader failed on; false uses dead_letter_queue_arn/url."
  type        = bool
  default     = true
}

variable "dead_letter_queue_arn" {
  description = "ARN of an existing dead-letter queue (create_dead_letter_queue = false)."
  type        = string
  default     = null

  validation {
    condition     = var.create_dead_letter_queue || (var.dead_letter_queue_arn != null && var.dead_letter_queue_url != null)
    error_message = "dead_letter_queue_arn: dead_letter_queue_arn and dead_letter_queue_url are required when create_dead_letter_queue = false."
  }
}

variable "dead_letter_queue_url" {
  description = "URL of that existing dead-letter queue."
  type        = string
  default     = null
}

variable "dead_letter_queue_kms_key_arn" {
  description = "KMS key of the dead-letter queue; null uses SQS managed encryption (SSE-SQS)."
  type        = string
  default     = null
}

variable "dead_letter_queue_message_retention_seconds" {
  description = "How long the created dead-letter queue keeps messages."
  type        = number
  default     = 1209600

  validation {
    condition     = var.dead_letter_queue_message_retention_seconds >= 60 && var.dead_letter_queue_message_retention_seconds <= 1209600
    error_message = "dead_letter_queue_message_retention_seconds: between 60 and 1209600 (14 days)."
  }
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
