variable "name" {
  description = "Prefix of every resource name (the function is <name>-stream-processor)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,38}$", var.name))
    error_message = "name: 2 to 39 lower-case letters, digits or '-', starting with a letter."
  }
}

################################################################################
# DynamoDB table
################################################################################

variable "create_table" {
  description = "Create the DynamoDB table; false plugs into an existing table given by table_name and stream_arn."
  type        = bool
  default     = true
}

variable "table_name" {
  description = "Name of the DynamoDB table (created, or existing when create_table = false)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]{3,255}$", var.table_name))
    error_message = "table_name: 3 to 255 of A-Z a-z 0-9 _ . -."
  }
}

variable "stream_arn" {
  description = "Stream ARN of the existing table (create_table = false); the stream must carry NEW_AND_OLD_IMAGES (or KEYS_ONLY, read back with GetItem)."
  type        = string
  default     = null

  validation {
    condition     = var.create_table || var.stream_arn != null
    error_message = "stream_arn: required when create_table = false."
  }

  validation {
    condition     = var.stream_arn == null || can(regex("^arn:aws[a-z-]*:dynamodb:[a-z0-9-]+:[0-9]{12}:table/[A-Za-z0-9_.-]+/stream/.+$", var.stream_arn))
    error_message = "stream_arn: a DynamoDB stream ARN (arn:aws:dynamodb:<region>:<account>:table/<table>/stream/<label>)."
  }
}

variable "hash_key" {
  description = "Partition key of the created table (required when create_table = true)."
  type = object({
    name = string
    type = optional(string, "S")
  })
  default = null

  validation {
    condition     = var.hash_key != null || !var.create_table
    error_message = "hash_key: required when create_table = true."
  }

  validation {
    condition     = var.hash_key == null || contains(["S", "N", "B"], try(var.hash_key.type, "S"))
    error_message = "hash_key.type: S, N or B."
  }
}

variable "range_key" {
  description = "Sort key of the created table; null for a table without one."
  type = object({
    name = string
    type = optional(string, "S")
  })
  default = null

  validation {
    condition     = var.range_key == null || contains(["S", "N", "B"], try(var.range_key.type, "S"))
    error_message = "range_key.type: S, N or B."
  }
}

variable "billing_mode" {
  description = "PAY_PER_REQUEST or PROVISIONED."
  type        = string
  default     = "PAY_PER_REQUEST"

  validation {
    condition     = contains(["PAY_PER_REQUEST", "PROVISIONED"], var.billing_mode)
    error_message = "billing_mode: PAY_PER_REQUEST or PROVISIONED."
  }
}

variable "provisioned_capacity" {
  description = "Read and write capacity units when billing_mode = PROVISIONED."
  type = object({
    read  = number
    write = number
  })
  default = { read = 5, write = 5 }
}

variable "table_kms_key_arn" {
  description = "Customer managed KMS key for the table (created or existing); null uses the AWS owned key. The function gets kms:Decrypt on it to read the stream."
  type        = string
  default     = null
}

variable "ttl_attribute_name" {
  description = "Attribute holding the item expiry (epoch seconds) on the created table; null leaves TTL off."
  type        = string
  default     = null
}

variable "deletion_protection" {
  description = "Deletion protection of the created table."
  type        = bool
  default     = true
}

################################################################################
# Function
################################################################################

variable "package_path" {
  description = "Path of dist/stream_processor.zip."
  type        = string
}

variable "architectures" {
  description = "Instruction set of the function: [\"arm64\"] or [\"x86_64\"]."
  type        = list(string)
  default     = ["arm64"]
}

variable "memory_size" {
  description = "Memory of the function in MB."
  type        = number
  default     = 256
}

variable "timeout" {
  description = "Timeout of the function in seconds (PutRecordBatch retries run inside it)."
  type        = number
  default     = 60
}

variable "reserved_concurrent_executions" {
  description = "Reserved concurrency of the function; -1 leaves it unreserved."
  type        = number
  default     = -1
}

variable "tracing_mode" {
  description = "X-Ray tracing mode of the function."
  type        = string
  default     = "Active"
}

variable "log_retention_in_days" {
  description = "Retention of the function's log group."
  type        = number
  default     = 365
}

variable "log_kms_key_arn" {
  description = "KMS key of the function's log group (its policy must allow CloudWatch Logs); null for the service default."
  type        = string
  default     = null
}

variable "environment_variables" {
  description = "Extra environment variables (POWERTOOLS_LOG_LEVEL, PUT_MAX_ATTEMPTS, ...); the module sets DELIVERY_STREAM_NAME and DEAD_LETTER_QUEUE_URL."
  type        = map(string)
  default     = {}
}

variable "delivery_stream_name" {
  description = "Firehose delivery stream the function writes change records into."
  type        = string
}

variable "delivery_stream_arn" {
  description = "ARN of that delivery stream (for the firehose:PutRecordBatch grant)."
  type        = string
}

################################################################################
# Event source mapping
################################################################################

variable "event_source_mapping" {
  description = "Settings of the stream → function mapping (AWS limits in the validations)."
  type = object({
    batch_size                         = optional(number, 100)
    maximum_batching_window_in_seconds = optional(number, 5)
    maximum_retry_attempts             = optional(number, 10)
    maximum_record_age_in_seconds      = optional(number, 86400)
    parallelization_factor             = optional(number, 1)
    enabled                            = optional(bool, true)
  })
  default = {}

  validation {
    condition     = var.event_source_mapping.batch_size >= 1 && var.event_source_mapping.batch_size <= 10000
    error_message = "event_source_mapping.batch_size: between 1 and 10000."
  }

  validation {
    condition     = var.event_source_mapping.maximum_batching_window_in_seconds >= 0 && var.event_source_mapping.maximum_batching_window_in_seconds <= 300
    error_message = "event_source_mapping.maximum_batching_window_in_seconds: between 0 and 300."
  }

  validation {
    condition     = var.event_source_mapping.maximum_retry_attempts >= -1 && var.event_source_mapping.maximum_retry_attempts <= 10000
    error_message = "event_source_mapping.maximum_retry_attempts: -1 (until the record expires) or 0 to 10000."
  }

  validation {
    condition = (
      var.event_source_mapping.maximum_record_age_in_seconds == -1 ||
      (var.event_source_mapping.maximum_record_age_in_seconds >= 60 && var.event_source_mapping.maximum_record_age_in_seconds <= 604800)
    )
    error_message = "event_source_mapping.maximum_record_age_in_seconds: -1 (the stream's retention) or 60 to 604800."
  }

  validation {
    condition     = var.event_source_mapping.parallelization_factor >= 1 && var.event_source_mapping.parallelization_factor <= 10 && floor(var.event_source_mapping.parallelization_factor) == var.event_source_mapping.parallelization_factor
    error_message = "event_source_mapping.parallelization_factor: a whole number from 1 to 10."
  }
}

################################################################################
# Dead-letter queue
################################################################################

variable "create_dead_letter_queue" {
  description = "Create the SQS queue for records the mapping gives up on and change records over Firehose's size limit; false uses dead_letter_queue_arn/url."
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
  description = "KMS key of the dead-letter queue (created or existing); null uses SQS managed encryption (SSE-SQS)."
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
