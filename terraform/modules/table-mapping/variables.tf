variable "table_mapping" {
  description = <<-EOT
    The table mapping document as a JSON string (for example file("mappings/web_analytics.json")).
    Validated here at plan time, mirroring functions/ddb2aurora/mapping.schema.json as far as HCL
    allows; the functions validate it against the full schema again when they start.
  EOT
  type        = string

  validation {
    condition     = can(keys(jsondecode(var.table_mapping))) && startswith(trimspace(var.table_mapping), "{")
    error_message = "table_mapping: must be a JSON object (the document does not parse, or is not an object)."
  }

  validation {
    condition = try(length(setsubtract(keys(jsondecode(var.table_mapping)), [
      "description", "source_table", "target_table", "keys", "write_mode", "delete_mode",
      "ignore_ttl_deletes", "json_attributes", "columns", "record_schema",
    ])) == 0, true)
    error_message = "table_mapping: unknown field(s) ${try(join(", ", [for k in setsubtract(keys(jsondecode(var.table_mapping)), ["description", "source_table", "target_table", "keys", "write_mode", "delete_mode", "ignore_ttl_deletes", "json_attributes", "columns", "record_schema"]) : "'${k}'"]), "")}."
  }

  validation {
    condition     = try(startswith(jsonencode(jsondecode(var.table_mapping).source_table), local.json_string_opener) && can(regex("^[A-Za-z0-9_.-]{3,255}$", jsondecode(var.table_mapping).source_table)), !can(jsondecode(var.table_mapping).source_table))
    error_message = "table_mapping: 'source_table', when given, must be a DynamoDB table name (3 to 255 of A-Z a-z 0-9 _ . -)."
  }

  validation {
    condition     = try(startswith(jsonencode(jsondecode(var.table_mapping).target_table), local.json_string_opener) && can(regex("^[A-Za-z][A-Za-z0-9_]{0,51}$", jsondecode(var.table_mapping).target_table)), !can(keys(jsondecode(var.table_mapping))))
    error_message = "table_mapping: 'target_table' must be an identifier matching ^[A-Za-z][A-Za-z0-9_]{0,51}$ (room is left for the __tombstones suffix)."
  }

  validation {
    condition     = try(startswith(jsonencode(jsondecode(var.table_mapping).keys), "[") && length(jsondecode(var.table_mapping).keys) > 0, !can(keys(jsondecode(var.table_mapping))))
    error_message = "table_mapping: 'keys' must list at least one column."
  }

  validation {
    condition     = try(length(jsondecode(var.table_mapping).keys) <= 4, true)
    error_message = "table_mapping: 'keys' may list at most 4 columns."
  }

  validation {
    condition = try(length([
      for i, k in jsondecode(var.table_mapping).keys : i
      if !contains([for c in jsondecode(var.table_mapping).columns : try(c.name, null)], k)
    ]) == 0, true)
    error_message = "table_mapping: ${try(join(", ", [for i, k in jsondecode(var.table_mapping).keys : "keys[${i}] ${jsonencode(k)}" if !contains([for c in jsondecode(var.table_mapping).columns : try(c.name, null)], k)]), "keys")} must name a column listed in 'columns'."
  }

  validation {
    condition     = try(length(distinct(jsondecode(var.table_mapping).keys)) == length(jsondecode(var.table_mapping).keys), true)
    error_message = "table_mapping: 'keys' must not list a column twice."
  }

  validation {
    condition     = try(contains(["upsert", "append"], jsondecode(var.table_mapping).write_mode), true) && try(startswith(jsonencode(jsondecode(var.table_mapping).write_mode), local.json_string_opener), true)
    error_message = "table_mapping: 'write_mode' must be \"upsert\" or \"append\"."
  }

  validation {
    condition     = try(contains(["soft", "hard"], jsondecode(var.table_mapping).delete_mode), true) && try(startswith(jsonencode(jsondecode(var.table_mapping).delete_mode), local.json_string_opener), true)
    error_message = "table_mapping: 'delete_mode' must be \"soft\" or \"hard\"."
  }

  validation {
    condition     = try(contains(["true", "false"], jsonencode(jsondecode(var.table_mapping).ignore_ttl_deletes)), true)
    error_message = "table_mapping: 'ignore_ttl_deletes' must be true or false."
  }

  validation {
    condition     = try(startswith(jsonencode(jsondecode(var.table_mapping).json_attributes), "[") && alltrue([for a in jsondecode(var.table_mapping).json_attributes : startswith(jsonencode(a), local.json_string_opener) && length(a) > 0]) && length(distinct(jsondecode(var.table_mapping).json_attributes)) == length(jsondecode(var.table_mapping).json_attributes), !can(jsondecode(var.table_mapping).json_attributes))
    error_message = "table_mapping: 'json_attributes' must be a list of distinct attribute names."
  }

  validation {
    condition     = try(startswith(jsonencode(jsondecode(var.table_mapping).columns), "[") && length(jsondecode(var.table_mapping).columns) > 0 && length(jsondecode(var.table_mapping).columns) <= 1000 && alltrue([for c in jsondecode(var.table_mapping).columns : startswith(jsonencode(c), "{")]), !can(keys(jsondecode(var.table_mapping))))
    error_message = "table_mapping: 'columns' must list 1 to 1000 column objects."
  }

  validation {
    condition = try(length([
      for i, c in jsondecode(var.table_mapping).columns : i
      if !(startswith(jsonencode(try(c.name, 0)), local.json_string_opener) && can(regex("^[A-Za-z][A-Za-z0-9_]{0,63}$", c.name)))
    ]) == 0, true)
    error_message = "table_mapping: ${try(join(", ", [for i, c in jsondecode(var.table_mapping).columns : "columns[${i}].name" if !(startswith(jsonencode(try(c.name, 0)), local.json_string_opener) && can(regex("^[A-Za-z][A-Za-z0-9_]{0,63}$", c.name)))]), "a column name")} must be an identifier matching ^[A-Za-z][A-Za-z0-9_]{0,63}$; a leading '_' is reserved (reserved for the replication metadata columns)."
  }

  validation {
    condition     = try(length(distinct([for c in jsondecode(var.table_mapping).columns : lower(c.name)])) == length(jsondecode(var.table_mapping).columns), true)
    error_message = "table_mapping: 'columns' must not repeat a name (names compare case-insensitively, as in MySQL)."
  }

  validation {
    condition = try(length([
      for i, c in jsondecode(var.table_mapping).columns : i
      if !can(regex("(?i)^\\s*(((TINYINT|SMALLINT|INT|BIGINT)(\\s+UNSIGNED)?)|((DECIMAL|NUMERIC)\\([0-9]{1,2}(,\\s*[0-9]{1,2})?\\))|((VARCHAR|VARBINARY)\\([1-9][0-9]{0,4}\\))|(DATETIME(\\([0-6]\\))?)|DOUBLE|BOOLEAN|BOOL|DATE|TEXT|MEDIUMTEXT|LONGTEXT|BLOB|MEDIUMBLOB|LONGBLOB|JSON)\\s*$", c.type))
    ]) == 0, true)
    error_message = "table_mapping: ${try(join(", ", [for i, c in jsondecode(var.table_mapping).columns : "columns[${i}].type ${jsonencode(try(c.type, null))}" if !can(regex("(?i)^\\s*(((TINYINT|SMALLINT|INT|BIGINT)(\\s+UNSIGNED)?)|((DECIMAL|NUMERIC)\\([0-9]{1,2}(,\\s*[0-9]{1,2})?\\))|((VARCHAR|VARBINARY)\\([1-9][0-9]{0,4}\\))|(DATETIME(\\([0-6]\\))?)|DOUBLE|BOOLEAN|BOOL|DATE|TEXT|MEDIUMTEXT|LONGTEXT|BLOB|MEDIUMBLOB|LONGBLOB|JSON)\\s*$", c.type))]), "a column type")} is not a supported MySQL type (VARCHAR(n), TEXT, MEDIUMTEXT, LONGTEXT, TINYINT/SMALLINT/INT/BIGINT [UNSIGNED], DECIMAL(p,s), DOUBLE, BOOLEAN, DATE, DATETIME(0-6), JSON, VARBINARY(n), BLOB, MEDIUMBLOB or LONGBLOB)."
  }

  validation {
    condition = try(length([
      for i, c in jsondecode(var.table_mapping).columns : i
      if !(startswith(jsonencode(try(c.path, 0)), "[") && length(try(c.path, [])) > 0 && length(try(c.path, [])) <= 32 && alltrue([for p in try(c.path, []) : startswith(jsonencode(p), local.json_string_opener) ? length(p) > 0 : can(regex("^[0-9]+$", jsonencode(p)))]))
    ]) == 0, true)
    error_message = "table_mapping: ${try(join(", ", [for i, c in jsondecode(var.table_mapping).columns : "columns[${i}].path" if !(startswith(jsonencode(try(c.path, 0)), "[") && length(try(c.path, [])) > 0 && length(try(c.path, [])) <= 32 && alltrue([for p in try(c.path, []) : startswith(jsonencode(p), local.json_string_opener) ? length(p) > 0 : can(regex("^[0-9]+$", jsonencode(p)))]))]), "a column path")} must list 1 to 32 attribute names or list indexes (the path into the item)."
  }

  validation {
    condition = try(length([
      for i, c in jsondecode(var.table_mapping).columns : i
      if !contains(["null", "\"epoch_millis\"", "\"epoch_seconds\"", "\"iso8601\""], jsonencode(try(c.format, null)))
    ]) == 0, true)
    error_message = "table_mapping: ${try(join(", ", [for i, c in jsondecode(var.table_mapping).columns : "columns[${i}].format ${jsonencode(try(c.format, null))}" if !contains(["null", "\"epoch_millis\"", "\"epoch_seconds\"", "\"iso8601\""], jsonencode(try(c.format, null)))]), "a column format")} must be one of \"epoch_millis\", \"epoch_seconds\", \"iso8601\"."
  }

  validation {
    condition = try(length([
      for i, c in jsondecode(var.table_mapping).columns : i
      if !contains(["true", "false"], jsonencode(try(c.nullable, true)))
    ]) == 0, true)
    error_message = "table_mapping: ${try(join(", ", [for i, c in jsondecode(var.table_mapping).columns : "columns[${i}].nullable" if !contains(["true", "false"], jsonencode(try(c.nullable, true)))]), "a column's nullable")} must be true or false."
  }

  validation {
    condition = try(length([
      for i, c in jsondecode(var.table_mapping).columns : i
      if length(setsubtract(keys(c), ["name", "type", "path", "format", "nullable", "description"])) > 0
    ]) == 0, true)
    error_message = "table_mapping: ${try(join(", ", [for i, c in jsondecode(var.table_mapping).columns : "columns[${i}] has unknown field(s) ${join(", ", [for k in setsubtract(keys(c), ["name", "type", "path", "format", "nullable", "description"]) : "'${k}'"])}" if length(setsubtract(keys(c), ["name", "type", "path", "format", "nullable", "description"])) > 0]), "a column has unknown fields")}."
  }

  validation {
    condition     = try(startswith(jsonencode(jsondecode(var.table_mapping).record_schema), "{"), !can(jsondecode(var.table_mapping).record_schema))
    error_message = "table_mapping: 'record_schema' must be a JSON Schema object when given."
  }

  validation {
    condition = try(length([
      for i, k in jsondecode(var.table_mapping).keys : i
      if length([for c in jsondecode(var.table_mapping).columns : c if c.name == k && !(length(c.path) == 1 && startswith(jsonencode(c.path[0]), local.json_string_opener) && !contains(try(jsondecode(var.table_mapping).json_attributes, []), c.path[0]))]) > 0
    ]) == 0, true)
    error_message = "table_mapping: ${try(join(", ", [for i, k in jsondecode(var.table_mapping).keys : "keys[${i}] ${jsonencode(k)}" if length([for c in jsondecode(var.table_mapping).columns : c if c.name == k && !(length(c.path) == 1 && startswith(jsonencode(c.path[0]), local.json_string_opener) && !contains(try(jsondecode(var.table_mapping).json_attributes, []), c.path[0]))]) > 0]), "a key")} must map a top-level attribute that is not a JSON attribute."
  }

  validation {
    condition = try(length([
      for i, c in jsondecode(var.table_mapping).columns : i
      if try(c.format, null) != null && !can(regex("(?i)^\\s*(DATE|DATETIME(\\([0-6]\\))?)\\s*$", c.type))
    ]) == 0, true)
    error_message = "table_mapping: ${try(join(", ", [for i, c in jsondecode(var.table_mapping).columns : "columns[${i}].format" if try(c.format, null) != null && !can(regex("(?i)^\\s*(DATE|DATETIME(\\([0-6]\\))?)\\s*$", c.type))]), "a column format")}: only DATETIME and DATE columns take a format."
  }

  validation {
    condition     = try(!(jsondecode(var.table_mapping).write_mode == "append" && jsondecode(var.table_mapping).delete_mode == "hard"), true)
    error_message = "table_mapping: 'delete_mode' must be \"soft\" with write_mode \"append\" (append mode records deletes as rows)."
  }

  validation {
    condition     = length(jsonencode(try(jsondecode(var.table_mapping), ""))) <= 8192
    error_message = "table_mapping: the minified document must fit in an SSM parameter (8 KB)."
  }
}

variable "parameter_name" {
  description = "Name of the SSM String parameter that stores the mapping (passed to the functions as TABLE_MAPPING_PARAMETER)."
  type        = string

  validation {
    condition     = length(var.parameter_name) <= 1011 && can(regex("^/?[A-Za-z0-9_./-]+$", var.parameter_name)) && !can(regex("(?i)^/?(aws|ssm)", var.parameter_name))
    error_message = "parameter_name: letters, digits and _ . - /, not starting with 'aws' or 'ssm'."
  }
}

variable "tags" {
  description = "Tags for the parameter."
  type        = map(string)
  default     = {}
}
