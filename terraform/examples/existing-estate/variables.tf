variable "region" {
  description = "AWS region of the existing estate."
  type        = string
}

variable "name_prefix" {
  description = "Prefix of the resources this example creates."
  type        = string
  default     = "ddb2aurora"
}

variable "table_mapping_path" {
  description = "Path of the table mapping JSON; null reads the sample mappings/web_analytics.json."
  type        = string
  default     = null
}

variable "package_dir" {
  description = "Directory holding the three function zips (built by `make build`); null means ../../../dist."
  type        = string
  default     = null
}

variable "table_name" {
  description = "Existing DynamoDB table."
  type        = string
}

variable "stream_arn" {
  description = "Its stream (NEW_AND_OLD_IMAGES)."
  type        = string
}

variable "subnet_ids" {
  description = "Existing private subnets the loader runs in (with routes or endpoints to S3, Secrets Manager and SSM)."
  type        = list(string)
}

variable "loader_security_group_id" {
  description = "Existing security group of the loader, admitted by Aurora's security group on the database port."
  type        = string
}

variable "db_host" {
  description = "Writer endpoint of the existing Aurora MySQL cluster."
  type        = string
}

variable "db_port" {
  description = "Port of the cluster."
  type        = number
  default     = 3306
}

variable "db_name" {
  description = "Database (schema) to replicate into."
  type        = string
}

variable "db_secret_arn" {
  description = "Secrets Manager secret with the loader user's username and password."
  type        = string
}

variable "db_secret_kms_key_arn" {
  description = "Customer managed KMS key of that secret; null for the AWS managed key."
  type        = string
  default     = null
}

variable "load_method" {
  description = "s3 (the cluster must have an aws_default_s3_role that can read the bucket) or local."
  type        = string
  default     = "local"
}
