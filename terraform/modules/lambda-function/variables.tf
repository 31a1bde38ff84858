variable "function_name" {
  description = "Name of the Lambda function; also names its role and log group."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,64}$", var.function_name))
    error_message = "function_name: 1 to 64 letters, digits, '-' or '_'."
  }
}

variable "description" {
  description = "Description of the function."
  type        = string
  default     = ""
}

variable "package_path" {
  description = "Path of the deployment zip (built by `make build`; Terraform never builds it)."
  type        = string
}

variable "handler" {
  description = "Handler string, module.function inside the zip."
  type        = string
}

variable "runtime" {
  description = "Lambda runtime."
  type        = string
  default     = "python3.12"

  validation {
    condition     = can(regex("^python3\\.(1[2-9]|[2-9][0-9])$", var.runtime))
    error_message = "runtime: the functions need python3.12 or later."
  }
}

variable "architectures" {
  description = "Instruction set: [\"arm64\"] or [\"x86_64\"] (the zips are pure Python, so either works)."
  type        = list(string)
  default     = ["arm64"]

  validation {
    condition     = length(var.architectures) == 1 && alltrue([for a in var.architectures : contains(["arm64", "x86_64"], a)])
    error_message = "architectures: exactly one of \"arm64\" or \"x86_64\"."
  }
}

variable "memory_size" {
  description = "Memory in MB."
  type        = number
  default     = 256

  validation {
    condition     = var.memory_size >= 128 && var.memory_size <= 10240
    error_message = "memory_size: between 128 and 10240 MB."
  }
}

variable "timeout" {
  description = "Timeout in seconds."
  type        = number
  default     = 60

  validation {
    condition     = var.timeout >= 1 && var.timeout <= 900
    error_message = "timeout: between 1 and 900 seconds."
  }
}

variable "environment_variables" {
  description = "Environment variables of the function (never secrets: pass secret ARNs instead)."
  type        = map(string)
  default     = {}
}

variable "vpc_config" {
  description = "Subnets and security groups to run the function in; null runs it outside any VPC."
  type = object({
    subnet_ids         = list(string)
    security_group_ids = list(string)
  })
  default = null
}

variable "reserved_concurrent_executions" {
  description = "Reserved concurrency; -1 leaves the function unreserved."
  type        = number
  default     = -1
}

variable "tracing_mode" {
  description = "X-Ray tracing mode: Active or PassThrough."
  type        = string
  default     = "Active"

  validation {
    condition     = contains(["Active", "PassThrough"], var.tracing_mode)
    error_message = "tracing_mode: Active or PassThrough."
  }
}

variable "kms_key_arn" {
  description = "KMS key that encrypts the function's environment variables; null uses the AWS managed key."
  type        = string
  default     = null
}

variable "log_retention_in_days" {
  description = "Retention of the function's CloudWatch log group."
  type        = number
  default     = 365
}

variable "log_kms_key_arn" {
  description = "KMS key for the log group (its key policy must allow CloudWatch Logs); null leaves the service default encryption."
  type        = string
  default     = null
}

variable "policy_statements" {
  description = "IAM statements of the function's role beyond logging, tracing and VPC networking. Actions must be named (no wildcard action)."
  type = list(object({
    sid       = string
    effect    = optional(string, "Allow")
    actions   = list(string)
    resources = list(string)
    conditions = optional(list(object({
      test     = string
      variable = string
      values   = list(string)
    })), [])
  }))
  default = []

  validation {
    condition     = alltrue([for s in var.policy_statements : alltrue([for a in s.actions : a != "*" && !endswith(a, ":*")])])
    error_message = "policy_statements: every action must be named; '*' and 'service:*' are not allowed."
  }

  validation {
    condition     = alltrue([for s in var.policy_statements : length(s.resources) > 0])
    error_message = "policy_statements: every statement needs at least one resource ARN."
  }
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
