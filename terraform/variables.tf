variable "region" {
  description = "AWS region of the stack."
  type        = string
  default     = "eu-west-1"
}

variable "name_prefix" {
  description = "Prefix of every resource name."
  type        = string
  default     = "ddb2aurora"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,20}$", var.name_prefix))
    error_message = "name_prefix: 2 to 21 lower-case letters, digits or '-', starting with a letter (it prefixes names with length limits)."
  }
}

variable "tags" {
  description = "Tags added to every resource (the provider's default_tags)."
  type        = map(string)
  default     = {}
}

variable "table_mapping_path" {
  description = "Path of the table mapping JSON; null reads the sample mappings/web_analytics.json."
  type        = string
  default     = null
}

variable "package_dir" {
  description = "Directory holding stream_processor.zip, firehose_transform.zip and aurora_loader.zip (built by `make build`); null means ../dist."
  type        = string
  default     = null
}

variable "architecture" {
  description = "Instruction set of the three functions (the zips are pure Python)."
  type        = string
  default     = "arm64"

  validation {
    condition     = contains(["arm64", "x86_64"], var.architecture)
    error_message = "architecture: arm64 or x86_64."
  }
}

variable "deletion_protection" {
  description = "Deletion protection of the DynamoDB table and the Aurora cluster. Switch off only for tests."
  type        = bool
  default     = true
}

variable "skip_final_snapshot" {
  description = "Destroy the Aurora cluster without a final snapshot. Only for tests."
  type        = bool
  default     = false
}

variable "bucket_force_destroy" {
  description = "Let terraform destroy empty the delivery bucket. Only for tests and demos."
  type        = bool
  default     = false
}

variable "create_s3_load_role" {
  description = "Create the role Aurora assumes for LOAD DATA FROM S3 and associate it with the cluster (switch off where the role association is not supported, for example under moto)."
  type        = bool
  default     = true
}

variable "load_method" {
  description = "How the loader loads objects: s3 (Aurora LOAD DATA FROM S3) or local (LOAD DATA LOCAL INFILE streamed by the loader)."
  type        = string
  default     = "s3"

  validation {
    condition     = contains(["s3", "local"], var.load_method)
    error_message = "load_method: s3 or local."
  }
}

variable "db_tls_mode" {
  description = "TLS mode of the loader's connection: disabled, required or verify-identity."
  type        = string
  default     = "required"
}

variable "aurora" {
  description = "Aurora cluster sizing."
  type = object({
    instance_class            = optional(string, "db.serverless")
    instance_count            = optional(number, 2)
    serverlessv2_min_capacity = optional(number, 0.5)
    serverlessv2_max_capacity = optional(number, 4)
    database_name             = optional(string, "ddb2aurora")
  })
  default = {}
}

variable "event_source_mapping" {
  description = "Stream → stream_processor settings (see the stream-ingest module)."
  type = object({
    batch_size                         = optional(number, 100)
    maximum_batching_window_in_seconds = optional(number, 5)
    maximum_retry_attempts             = optional(number, 10)
    maximum_record_age_in_seconds      = optional(number, 86400)
    parallelization_factor             = optional(number, 1)
  })
  default = {}
}

variable "buffering_size" {
  description = "Firehose buffer size in MiB (1 to 128)."
  type        = number
  default     = 64
}

variable "buffering_interval" {
  description = "Firehose buffer interval in seconds (0 to 900)."
  type        = number
  default     = 60
}

variable "data_expiration_days" {
  description = "Days after which delivered objects expire in the bucket; 0 keeps them."
  type        = number
  default     = 30
}

variable "log_retention_in_days" {
  description = "Retention of every log group."
  type        = number
  default     = 365
}

variable "alarm_sns_topic_arn" {
  description = "Existing SNS topic for the alarms; null creates one."
  type        = string
  default     = null
}
