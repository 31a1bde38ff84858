variable "create" {
  description = "Create the queue; false uses the existing queue given by existing_queue_arn and existing_queue_url."
  type        = bool
  default     = true
}

variable "name" {
  description = "Name of the created queue (required when create = true)."
  type        = string
  default     = null

  validation {
    condition     = !var.create || var.name != null
    error_message = "name: required when create = true."
  }

  validation {
    condition     = var.name == null || can(regex("^[A-Za-z0-9_-]{1,80}$", var.name))
    error_message = "name: 1 to 80 of A-Z a-z 0-9 _ - (an SQS standard queue name)."
  }
}

variable "existing_queue_arn" {
  description = "ARN of the existing queue to use when create = false."
  type        = string
  default     = null

  validation {
    condition     = var.create || var.existing_queue_arn != null
    error_message = "existing_queue_arn: required when create = false."
  }

  validation {
    condition     = var.existing_queue_arn == null || can(regex("^arn:aws[a-z-]*:sqs:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,80}$", var.existing_queue_arn))
    error_message = "existing_queue_arn: an SQS standard queue ARN (arn:aws:sqs:<region>:<account>:<name>)."
  }
}

variable "existing_queue_url" {
  description = "URL of that existing queue (the functions send to the URL, the AWS on-failure destinations to the ARN)."
  type        = string
  default     = null

  validation {
    condition     = var.create || var.existing_queue_url != null
    error_message = "existing_queue_url: required when create = false."
  }

  validation {
    # Both name one queue: a mismatched pair would split the dead letters over two queues.
    condition = (
      var.existing_queue_url == null || var.existing_queue_arn == null ||
      endswith(coalesce(var.existing_queue_url, "-"), "/${try(element(split(":", var.existing_queue_arn), 5), "")}")
    )
    error_message = "existing_queue_url: must end with /<name> of the queue existing_queue_arn names."
  }
}

variable "kms_key_arn" {
  description = "KMS key encrypting the queue (SSE-KMS); null uses SQS managed encryption (SSE-SQS)."
  type        = string
  default     = null

  validation {
    # A key ARN, not an ID or alias: the callers grant kms:GenerateDataKey on it to the senders.
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "kms_key_arn: a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>), which IAM grants can name."
  }
}

variable "message_retention_seconds" {
  description = "How long the created queue keeps messages."
  type        = number
  default     = 1209600

  validation {
    condition     = var.message_retention_seconds >= 60 && var.message_retention_seconds <= 1209600
    error_message = "message_retention_seconds: between 60 and 1209600 (14 days)."
  }
}

variable "tags" {
  description = "Tags for the created queue."
  type        = map(string)
  default     = {}
}
