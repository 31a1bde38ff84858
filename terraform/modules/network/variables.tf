variable "name" {
  description = "Name prefix for every resource this module creates (VPC, subnets, endpoints, security groups, flow log)."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z][a-zA-Z0-9-]{0,39}$", var.name))
    error_message = "name must start with a letter and hold 1-40 letters, digits or hyphens."
  }
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}

################################################################################
# VPC and subnets
################################################################################

variable "create_vpc" {
  description = "Create a VPC with private subnets. Set false to use an existing VPC given by vpc_id, private_subnet_ids and route_table_ids."
  type        = bool
  default     = true
}

variable "vpc_cidr" {
  description = "CIDR block of the VPC created when create_vpc is true."
  type        = string
  default     = "10.42.0.0/16"

  validation {
    condition     = can(cidrhost(var.vpc_cidr, 0))
    error_message = "vpc_cidr must be a valid IPv4 CIDR block, for example 10.42.0.0/16."
  }
}

variable "private_subnet_cidrs" {
  description = "CIDR blocks of the private subnets created when create_vpc is true: one subnet per block, spread over azs. At least two, so Aurora and the loader span two Availability Zones."
  type        = list(string)
  default     = ["10.42.0.0/20", "10.42.16.0/20"]

  validation {
    condition     = length(var.private_subnet_cidrs) >= 2
    error_message = "private_subnet_cidrs needs at least two CIDR blocks (one private subnet in each of at least two Availability Zones)."
  }

  validation {
    condition     = alltrue([for cidr in var.private_subnet_cidrs : can(cidrhost(cidr, 0))])
    error_message = "every entry of private_subnet_cidrs must be a valid IPv4 CIDR block."
  }
}

variable "azs" {
  description = "Availability Zones for the private subnets (create_vpc = true). Empty: the first available zones of the region, one per subnet."
  type        = list(string)
  default     = []

  validation {
    condition     = length(var.azs) == 0 || length(distinct(var.azs)) >= 2
    error_message = "azs must name at least two distinct Availability Zones (or be empty to use the region's first zones)."
  }
}

variable "vpc_id" {
  description = "ID of an existing VPC (create_vpc = false)."
  type        = string
  default     = null

  validation {
    condition     = var.vpc_id == null || can(regex("^vpc-[0-9a-f]+$", var.vpc_id))
    error_message = "vpc_id must look like vpc-0123abcd."
  }
}

variable "private_subnet_ids" {
  description = "IDs of existing private subnets in at least two Availability Zones (create_vpc = false)."
  type        = list(string)
  default     = []

  validation {
    condition     = length(var.private_subnet_ids) == 0 || length(var.private_subnet_ids) >= 2
    error_message = "private_subnet_ids needs at least two subnets (in two Availability Zones)."
  }

  validation {
    condition     = alltrue([for id in var.private_subnet_ids : can(regex("^subnet-[0-9a-f]+$", id))])
    error_message = "every entry of private_subnet_ids must look like subnet-0123abcd."
  }
}

variable "route_table_ids" {
  description = "Route tables of the existing private subnets (create_vpc = false); the S3 gateway endpoint is added to them."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for id in var.route_table_ids : can(regex("^rtb-[0-9a-f]+$", id))])
    error_message = "every entry of route_table_ids must look like rtb-0123abcd."
  }
}

################################################################################
# VPC endpoints
################################################################################

variable "create_s3_endpoint" {
  description = "Create an S3 gateway endpoint on the private route tables (the loader and Aurora's LOAD DATA FROM S3 reach S3 without NAT). Set false when the VPC already has one."
  type        = bool
  default     = true
}

variable "create_secretsmanager_endpoint" {
  description = "Create a Secrets Manager interface endpoint with private DNS in the private subnets. Set false when the VPC already has one (a second endpoint with private DNS would conflict)."
  type        = bool
  default     = true
}

variable "create_ssm_endpoint" {
  description = "Create an SSM (Parameter Store) interface endpoint with private DNS in the private subnets, so the loader reads its table mapping without NAT. Set false when the VPC already has one."
  type        = bool
  default     = true
}

variable "s3_endpoint_policy" {
  description = "JSON policy document of the S3 gateway endpoint, replacing the module's default. The gateway endpoint carries ALL S3 traffic from the route tables it is on, so in a VPC shared with other workloads give a policy that also allows their calls, or AWS's full-access document to switch the restriction off (see README). Null: the module's least-privilege default (s3:GetObject and s3:ListBucket on s3_endpoint_bucket_arns, by principals of this account)."
  type        = string
  default     = null

  validation {
    condition     = var.s3_endpoint_policy == null || can(jsondecode(var.s3_endpoint_policy).Statement)
    error_message = "s3_endpoint_policy must be a JSON policy document (an object with a Statement), for example from jsonencode() or aws_iam_policy_document."
  }
}

variable "s3_endpoint_bucket_arns" {
  description = "Buckets the default S3 endpoint policy allows reading (their objects and listing): the delivery bucket. Empty: any bucket owned by this account (s3:ResourceAccount condition)."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for arn in var.s3_endpoint_bucket_arns : can(regex("^arn:aws[a-zA-Z-]*:s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", arn))])
    error_message = "every entry of s3_endpoint_bucket_arns must be an S3 bucket ARN (arn:aws:s3:::bucket-name), without an object path."
  }
}

variable "secretsmanager_endpoint_policy" {
  description = "JSON policy document of the Secrets Manager interface endpoint, replacing the module's default; with private DNS it answers every Secrets Manager call from the VPC, so include other workloads' calls (or AWS's full-access document, see README). Null: the module's least-privilege default (secretsmanager:GetSecretValue on secretsmanager_endpoint_secret_arns, by principals of this account)."
  type        = string
  default     = null

  validation {
    condition     = var.secretsmanager_endpoint_policy == null || can(jsondecode(var.secretsmanager_endpoint_policy).Statement)
    error_message = "secretsmanager_endpoint_policy must be a JSON policy document (an object with a Statement), for example from jsonencode() or aws_iam_policy_document."
  }
}

variable "secretsmanager_endpoint_secret_arns" {
  description = "Secrets the default Secrets Manager endpoint policy allows reading: the loader's database secret. Empty: any secret of this account in this region (the root stack leaves it empty: the secret is Aurora's, and Aurora is created after the network)."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for arn in var.secretsmanager_endpoint_secret_arns : can(regex("^arn:aws[a-zA-Z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:.+$", arn))])
    error_message = "every entry of secretsmanager_endpoint_secret_arns must be a secret ARN (arn:aws:secretsmanager:region:account:secret:name)."
  }
}

variable "ssm_endpoint_policy" {
  description = "JSON policy document of the SSM interface endpoint, replacing the module's default; with private DNS it answers every SSM call from the VPC (Session Manager, Run Command, Parameter Store), so include other workloads' calls (or AWS's full-access document, see README). Null: the module's least-privilege default (ssm:GetParameter on ssm_endpoint_parameter_arns, by principals of this account)."
  type        = string
  default     = null

  validation {
    condition     = var.ssm_endpoint_policy == null || can(jsondecode(var.ssm_endpoint_policy).Statement)
    error_message = "ssm_endpoint_policy must be a JSON policy document (an object with a Statement), for example from jsonencode() or aws_iam_policy_document."
  }
}

variable "ssm_endpoint_parameter_arns" {
  description = "Parameters the default SSM endpoint policy allows reading: the table mapping parameter. Empty: any parameter of this account in this region."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for arn in var.ssm_endpoint_parameter_arns : can(regex("^arn:aws[a-zA-Z-]*:ssm:[a-z0-9-]+:[0-9]{12}:parameter/.+$", arn))])
    error_message = "every entry of ssm_endpoint_parameter_arns must be a parameter ARN (arn:aws:ssm:region:account:parameter/name)."
  }
}

################################################################################
# Security groups
################################################################################

variable "create_security_groups" {
  description = "Create the loader security group (egress only) and the Aurora security group (3306 from the loader only)."
  type        = bool
  default     = true
}

variable "aurora_port" {
  description = "Port Aurora listens on; the only port the loader may open to it."
  type        = number
  default     = 3306

  validation {
    condition     = var.aurora_port >= 1150 && var.aurora_port <= 65535
    error_message = "aurora_port must be between 1150 and 65535 (the range RDS accepts)."
  }
}

################################################################################
# Flow log
################################################################################

variable "create_flow_log" {
  description = "Record the VPC's traffic (ACCEPT and REJECT) to a CloudWatch log group. Applies to the VPC this module creates, or to vpc_id."
  type        = bool
  default     = true
}

variable "flow_log_retention_in_days" {
  description = "Retention of the flow log's CloudWatch log group, in days."
  type        = number
  default     = 365

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.flow_log_retention_in_days)
    error_message = "flow_log_retention_in_days must be one of the values CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653)."
  }
}

variable "flow_log_kms_key_arn" {
  description = "KMS key ARN that encrypts the flow log's log group. Null: CloudWatch Logs' default encryption (the key policy must allow logs.<region>.amazonaws.com when given)."
  type        = string
  default     = null

  validation {
    condition     = var.flow_log_kms_key_arn == null || can(regex("^arn:aws[a-zA-Z-]*:kms:", var.flow_log_kms_key_arn))
    error_message = "flow_log_kms_key_arn must be a KMS key ARN (arn:aws:kms:...)."
  }
}
