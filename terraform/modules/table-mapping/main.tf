locals {
  mapping = jsondecode(var.table_mapping)

  # The first character of any JSON string: `startswith(jsonencode(v), local.json_string_opener)`
  # tells a string from a number or bool (which HCL would convert silently). A constant, so
  # the variable's validations may use it; spelt without an escaped quote, which checkov's
  # HCL parser cannot read inside a template.
  json_string_opener = substr(jsonencode(""), 0, 1)
}

# A String parameter rather than an environment variable: Lambda environments stop at 4 KB,
# and one parameter serves both the transform and the loader. The mapping holds no secret.
resource "aws_ssm_parameter" "this" {
  #checkov:skip=CKV2_AWS_34:The mapping is configuration, not a secret; docs/architecture.md names a String parameter.
  name        = var.parameter_name
  description = "ddb2aurora table mapping ${try(local.mapping.source_table, "(any table)")} -> ${local.mapping.target_table}"
  type        = "String"
  tier        = "Intelligent-Tiering"
  data_type   = "text"
  value       = jsonencode(local.mapping)
  tags        = var.tags
}
