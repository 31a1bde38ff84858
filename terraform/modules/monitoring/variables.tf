variable "name" {
  description = "Name prefix of the alarms, the SNS topic and the dashboard."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z][a-zA-Z0-9_-]{0,63}$", var.name))
    error_message = "name must start with a letter and hold 1-64 letters, digits, hyphens or underscores."
  }
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}

################################################################################
# What is watched (names, not ARNs: CloudWatch dimensions take names)
################################################################################

variable "stream_processor_function_name" {
  description = "Name of the stream_processor Lambda function (IteratorAge alarm)."
  type        = string
  default     = null
}

variable "firehose_transform_function_name" {
  description = "Name of the firehose_transform Lambda function (Errors alarm)."
  type        = string
  default     = null
}

variable "loader_function_name" {
  description = "Name of the aurora_loader Lambda function (Errors and Throttles alarms)."
  type        = string
  default     = null
}

variable "metrics_namespace" {
  description = "CloudWatch namespace of the functions' own (Powertools) metrics: their POWERTOOLS_METRICS_NAMESPACE."
  type        = string
  default     = "ddb2aurora"
}

variable "transform_metrics_service" {
  description = "The firehose_transform function's POWERTOOLS_SERVICE_NAME: the service dimension of its RecordsFailed metric."
  type        = string
  default     = "firehose_transform"
}

variable "stream_dlq_name" {
  description = "Name of the stream mapping's on-failure SQS queue."
  type        = string
  default     = null
}

variable "loader_dlq_name" {
  description = "Name of the loader's asynchronous on-failure SQS queue."
  type        = string
  default     = null
}

variable "delivery_stream_name" {
  description = "Name of the Firehose delivery stream (data freshness and processing alarms)."
  type        = string
  default     = null
}

variable "cluster_id" {
  description = "Identifier of the Aurora cluster (CPU and connections alarms)."
  type        = string
  default     = null
}

################################################################################
# Alarms
################################################################################

variable "alarms" {
  description = <<-EOT
    Alarm switches and thresholds. Each alarm takes enabled, threshold, evaluation_periods and period (seconds);
    an enabled alarm needs the name of what it watches. Thresholds: stream_iterator_age in milliseconds;
    the dead-letter queues in visible messages (alarm when above); firehose_data_freshness in seconds;
    firehose_processing_success as the fraction of successful transform invocations (alarm when below);
    transform_records_failed (records the transform marked ProcessingFailed: they went to the error prefix),
    transform_errors, loader_errors, loader_throttles in counts per period (alarm when above);
    aurora_cpu in percent; aurora_connections in connections.
  EOT
  type = object({
    stream_iterator_age = optional(object({
      enabled            = optional(bool, true)
      threshold          = optional(number, 300000)
      evaluation_periods = optional(number, 3)
      period             = optional(number, 60)
    }), {})
    stream_dlq_depth = optional(object({
      enabled            = optional(bool, true)
      threshold          = optional(number, 0)
      evaluation_periods = optional(number, 1)
      period             = optional(number, 300)
    }), {})
    loader_dlq_depth = optional(object({
      enabled            = optional(bool, true)
      threshold          = optional(number, 0)
      evaluation_periods = optional(number, 1)
      period             = optional(number, 300)
    }), {})
    firehose_data_freshness = optional(object({
      enabled            = optional(bool, true)
      threshold          = optional(number, 900)
      evaluation_periods = optional(number, 1)
      period             = optional(number, 300)
    }), {})
    firehose_processing_success = optional(object({
      enabled            = optional(bool, true)
      threshold          = optional(number, 1)
      evaluation_periods = optional(number, 1)
      period             = optional(number, 300)
    }), {})
    transform_records_failed = optional(object({
      enabled            = optional(bool, true)
      threshold          = optional(number, 0)
      evaluation_periods = optional(number, 1)
      period             = optional(number, 300)
    }), {})
    transform_errors = optional(object({
      enabled            = optional(bool, true)
      threshold          = optional(number, 0)
      evaluation_periods = optional(number, 1)
      period             = optional(number, 300)
    }), {})
    loader_errors = optional(object({
      enabled            = optional(bool, true)
      threshold          = optional(number, 0)
      evaluation_periods = optional(number, 1)
      period             = optional(number, 300)
    }), {})
    loader_throttles = optional(object({
      enabled            = optional(bool, true)
      threshold          = optional(number, 0)
      evaluation_periods = optional(number, 1)
      period             = optional(number, 300)
    }), {})
    aurora_cpu = optional(object({
      enabled            = optional(bool, true)
      threshold          = optional(number, 80)
      evaluation_periods = optional(number, 3)
      period             = optional(number, 300)
    }), {})
    aurora_connections = optional(object({
      enabled            = optional(bool, true)
      threshold          = optional(number, 100)
      evaluation_periods = optional(number, 3)
      period             = optional(number, 300)
    }), {})
  })
  default = {}

  validation {
    condition     = alltrue([for alarm in values(var.alarms) : alarm.threshold >= 0])
    error_message = "every alarm threshold must be zero or more."
  }

  validation {
    condition     = alltrue([for alarm in values(var.alarms) : alarm.evaluation_periods >= 1 && alarm.evaluation_periods <= 100 && floor(alarm.evaluation_periods) == alarm.evaluation_periods])
    error_message = "every alarm's evaluation_periods must be a whole number from 1 to 100."
  }

  validation {
    condition     = alltrue([for alarm in values(var.alarms) : contains([10, 20, 30], alarm.period) || (alarm.period >= 60 && alarm.period % 60 == 0)])
    error_message = "every alarm's period must be 10, 20, 30 or a multiple of 60 seconds."
  }

  validation {
    condition     = var.alarms.firehose_processing_success.threshold > 0 && var.alarms.firehose_processing_success.threshold <= 1
    error_message = "alarms.firehose_processing_success.threshold is a fraction of successful invocations: more than 0, at most 1."
  }

  validation {
    condition     = var.alarms.aurora_cpu.threshold > 0 && var.alarms.aurora_cpu.threshold <= 100
    error_message = "alarms.aurora_cpu.threshold is a percentage: more than 0, at most 100."
  }
}

variable "ok_actions_enabled" {
  description = "Notify the SNS topic when an alarm returns to OK as well."
  type        = bool
  default     = true
}

################################################################################
# Notifications
################################################################################

variable "create_sns_topic" {
  description = "Create an SNS topic for the alarms. Set false to notify sns_topic_arn."
  type        = bool
  default     = true
}

variable "sns_topic_arn" {
  description = "Existing SNS topic the alarms notify when create_sns_topic is false."
  type        = string
  default     = null

  validation {
    condition     = var.sns_topic_arn == null || can(regex("^arn:aws[a-zA-Z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_.-]+$", var.sns_topic_arn))
    error_message = "sns_topic_arn must be an SNS topic ARN (arn:aws:sns:region:account:name)."
  }
}

variable "create_sns_kms_key" {
  description = "Create a KMS key for the topic whose policy lets CloudWatch alarms publish (the AWS-managed alias/aws/sns key does not). Set false to use sns_kms_key_arn."
  type        = bool
  default     = true
}

variable "sns_kms_key_arn" {
  description = "KMS key that encrypts the created topic when create_sns_kms_key is false; its policy must let cloudwatch.amazonaws.com use it."
  type        = string
  default     = null

  validation {
    condition     = var.sns_kms_key_arn == null || can(regex("^arn:aws[a-zA-Z-]*:kms:", var.sns_kms_key_arn))
    error_message = "sns_kms_key_arn must be a KMS key ARN (arn:aws:kms:...)."
  }
}

################################################################################
# Dashboard
################################################################################

variable "create_dashboard" {
  description = "Create a CloudWatch dashboard with the pipeline's key metrics."
  type        = bool
  default     = true
}
