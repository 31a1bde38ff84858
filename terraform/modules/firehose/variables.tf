variable "name" {
  description = "Prefix of every resource name (delivery stream <name>-delivery, function <name>-firehose-transform)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,38}$", var.name))
    error_message = "name: 2 to 39 lower-case letters, digits or '-', starting with a letter."
  }
}

################################################################################
# KMS
################################################################################

variable "create_kms_key" {
  description = "Create a customer managed key for the bucket, the delivery stream and the log groups; false uses kms_key_arn."
  type        = bool
  default     = true
}

variable "kms_key_arn" {
  description = "Existing customer managed key (create_kms_key = false). Its policy must let this account's IAM grant use of it, and CloudWatch Logs use it for the log groups."
  type        = string
  default     = null

  validation {
    condition     = var.create_kms_key || var.kms_key_arn != null
    error_message = "kms_key_arn: required when create_kms_key = false."
  }
}

variable "kms_key_deletion_window_in_days" {
  description = "Waiting period before the created key is deleted."
  type        = number
  default     = 30

  validation {
    condition     = var.kms_key_deletion_window_in_days >= 7 && var.kms_key_deletion_window_in_days <= 30
    error_message = "kms_key_deletion_window_in_days: between 7 and 30."
  }
}

################################################################################
# S3 bucket
################################################################################

variable "create_bucket" {
  description = "Create the delivery bucket; false delivers into an existing bucket given by bucket_name."
  type        = bool
  default     = true
}

variable "bucket_name" {
  description = "Name of the delivery bucket (created, or existing when create_bucket = false)."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.bucket_name))
    error_message = "bucket_name: 3 to 63 lower-case letters, digits, '.' or '-'."
  }
}

variable "bucket_force_destroy" {
  description = "Let terraform destroy empty the created bucket (tests and demos only)."
  type        = bool
  default     = false
}

variable "data_expiration_days" {
  description = "Days after which objects under the data and error prefixes expire (the target table holds the loaded state); 0 keeps them."
  type        = number
  default     = 30

  validation {
    condition     = var.data_expiration_days >= 0 && floor(var.data_expiration_days) == var.data_expiration_days
    error_message = "data_expiration_days: a whole number, 0 to keep objects."
  }
}

variable "noncurrent_version_expiration_days" {
  description = "Days after which non-current object versions expire."
  type        = number
  default     = 7

  validation {
    condition     = var.noncurrent_version_expiration_days >= 1
    error_message = "noncurrent_version_expiration_days: at least 1."
  }
}

variable "access_log_bucket" {
  description = "Bucket that receives the created bucket's server access logs; null leaves access logging off."
  type        = string
  default     = null
}

################################################################################
# Delivery stream
################################################################################

variable "prefix" {
  description = "S3 key prefix of delivered objects; the loader's notification filters on its static part."
  type        = string
  default     = "data/!{timestamp:yyyy/MM/dd/HH}/"

  validation {
    condition     = can(regex("^[A-Za-z0-9_.=-]+/", var.prefix)) && endswith(var.prefix, "/")
    error_message = "prefix: must start with a static folder (for example data/) and end with '/'."
  }
}

variable "error_output_prefix" {
  description = "S3 key prefix of records that failed transformation."
  type        = string
  default     = "errors/!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd/HH}/"

  validation {
    condition     = strcontains(var.error_output_prefix, "!{firehose:error-output-type}")
    error_message = "error_output_prefix: must contain !{firehose:error-output-type}, so failed records are sorted by failure."
  }

  validation {
    condition     = can(regex("^[A-Za-z0-9_.=-]+/", var.error_output_prefix)) && endswith(var.error_output_prefix, "/")
    error_message = "error_output_prefix: must start with a static folder (for example errors/) and end with '/'."
  }
}

variable "buffering_size" {
  description = "Firehose buffer size in MiB before delivering an object."
  type        = number
  default     = 64

  validation {
    condition     = var.buffering_size >= 1 && var.buffering_size <= 128
    error_message = "buffering_size: between 1 and 128 MiB."
  }
}

variable "buffering_interval" {
  description = "Firehose buffer interval in seconds before delivering an object."
  type        = number
  default     = 60

  validation {
    condition     = var.buffering_interval >= 0 && var.buffering_interval <= 900
    error_message = "buffering_interval: between 0 and 900 seconds."
  }
}

variable "processor" {
  description = "Settings of the Lambda processor (the transform function) inside the delivery stream."
  type = object({
    number_of_retries          = optional(number, 3)
    buffer_size_in_mb          = optional(number, 1)
    buffer_interval_in_seconds = optional(number, 60)
  })
  default = {}

  validation {
    condition     = var.processor.buffer_size_in_mb >= 1 && var.processor.buffer_size_in_mb <= 3 && floor(var.processor.buffer_size_in_mb) == var.processor.buffer_size_in_mb
    error_message = "processor.buffer_size_in_mb: 1, 2 or 3 MB (a Lambda invocation takes at most 6 MB, and the transformed CSV can be larger than its input)."
  }

  validation {
    condition     = var.processor.buffer_interval_in_seconds >= 60 && var.processor.buffer_interval_in_seconds <= 900
    error_message = "processor.buffer_interval_in_seconds: between 60 and 900."
  }

  validation {
    condition     = var.processor.number_of_retries >= 0 && var.processor.number_of_retries <= 300
    error_message = "processor.number_of_retries: between 0 and 300."
  }
}

variable "log_retention_in_days" {
  description = "Retention of the delivery stream's and the function's log groups."
  type        = number
  default     = 365
}

################################################################################
# firehose_transform function
################################################################################

variable "package_path" {
  description = "Path of dist/firehose_transform.zip."
  type        = string
}

variable "table_mapping_parameter_name" {
  description = "SSM parameter holding the table mapping (from the table-mapping module)."
  type        = string
}

variable "table_mapping_parameter_arn" {
  description = "ARN of that parameter (for the ssm:GetParameter grant)."
  type        = string
}

variable "architectures" {
  description = "Instruction set of the function: [\"arm64\"] or [\"x86_64\"]."
  type        = list(string)
  default     = ["arm64"]
}

variable "memory_size" {
  description = "Memory of the transform function in MB."
  type        = number
  default     = 512
}

variable "timeout" {
  description = "Timeout of the transform function in seconds (Firehose allows at most 300 for a processor)."
  type        = number
  default     = 120

  validation {
    condition     = var.timeout >= 1 && var.timeout <= 300
    error_message = "timeout: between 1 and 300 seconds (Firehose's limit for a processor)."
  }
}

variable "reserved_concurrent_executions" {
  description = "Reserved concurrency of the transform function; -1 leaves it unreserved."
  type        = number
  default     = -1
}

variable "tracing_mode" {
  description = "X-Ray tracing mode of the transform function."
  type        = string
  default     = "Active"
}

variable "environment_variables" {
  description = "Extra environment variables of the transform function; the module sets TABLE_MAPPING_PARAMETER."
  type        = map(string)
  default     = {}
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
