mock_provider "aws" {
  mock_resource "aws_ssm_parameter" {
    defaults = {
      arn = "arn:aws:ssm:eu-west-1:123456789012:parameter/ddb2aurora/mappings/web_analytics"
    }
  }
}

variables {
  parameter_name = "/ddb2aurora/mappings/web_analytics"
  table_mapping  = file("../../../mappings/web_analytics.json")
  sample         = jsondecode(file("../../../mappings/web_analytics.json"))
}

run "stores_the_sample_mapping_minified" {
  command = plan

  assert {
    condition     = aws_ssm_parameter.this.type == "String" && aws_ssm_parameter.this.tier == "Intelligent-Tiering"
    error_message = "The mapping must be a String parameter in the Intelligent-Tiering tier."
  }

  assert {
    condition     = jsondecode(aws_ssm_parameter.this.value) == jsondecode(var.table_mapping)
    error_message = "The parameter must hold the mapping unchanged."
  }

  assert {
    condition     = output.target_table == "web_analytics" && output.keys == ["page_id", "activity_dt"]
    error_message = "Outputs must expose the target table and keys."
  }

  assert {
    condition     = output.dynamodb_key_attributes == [{ name = "page_id", type = "S" }, { name = "activity_dt", type = "S" }]
    error_message = "The DynamoDB key must come from the key columns' attributes and SQL types."
  }
}

run "rejects_a_document_that_is_not_json" {
  command = plan

  variables {
    table_mapping = "{not json"
  }

  expect_failures = [var.table_mapping]
}

run "rejects_a_mapping_without_keys" {
  command = plan

  variables {
    table_mapping = jsonencode({ for k, v in var.sample : k => v if k != "keys" })
  }

  expect_failures = [var.table_mapping]
}

run "rejects_empty_keys" {
  command = plan

  variables {
    table_mapping = jsonencode(merge(var.sample, { keys = [] }))
  }

  expect_failures = [var.table_mapping]
}

run "rejects_a_key_that_is_not_a_column" {
  command = plan

  variables {
    table_mapping = jsonencode(merge(var.sample, { keys = ["page_id", "nope"] }))
  }

  expect_failures = [var.table_mapping]
}

run "rejects_a_column_name_reserved_for_metadata" {
  command = plan

  variables {
    table_mapping = jsonencode(merge(var.sample, { columns = concat(var.sample.columns, [{ name = "_seq", type = "INT", path = ["x"] }]) }))
  }

  expect_failures = [var.table_mapping]
}

run "rejects_an_unknown_sql_type" {
  command = plan

  variables {
    table_mapping = jsonencode(merge(var.sample, { columns = concat(var.sample.columns, [{ name = "x", type = "VARCHAR", path = ["x"] }]) }))
  }

  expect_failures = [var.table_mapping]
}

run "rejects_an_empty_path" {
  command = plan

  variables {
    table_mapping = jsonencode(merge(var.sample, { columns = concat(var.sample.columns, [{ name = "x", type = "INT", path = [] }]) }))
  }

  expect_failures = [var.table_mapping]
}

run "rejects_a_bad_write_mode" {
  command = plan

  variables {
    table_mapping = jsonencode(merge(var.sample, { write_mode = "merge" }))
  }

  expect_failures = [var.table_mapping]
}

run "rejects_a_bad_target_table_identifier" {
  command = plan

  variables {
    table_mapping = jsonencode(merge(var.sample, { target_table = "web-analytics" }))
  }

  expect_failures = [var.table_mapping]
}

run "rejects_an_unknown_field" {
  command = plan

  variables {
    table_mapping = jsonencode(merge(var.sample, { colums = [] }))
  }

  expect_failures = [var.table_mapping]
}

run "rejects_a_key_inside_a_json_attribute" {
  command = plan

  variables {
    table_mapping = jsonencode(merge(var.sample, { keys = ["page_id", "hits"] }))
  }

  expect_failures = [var.table_mapping]
}

run "rejects_a_format_on_a_non_datetime_column" {
  command = plan

  variables {
    table_mapping = jsonencode(merge(var.sample, { columns = concat(var.sample.columns, [{ name = "x", type = "INT", path = ["x"], format = "epoch_millis" }]) }))
  }

  expect_failures = [var.table_mapping]
}

run "rejects_hard_deletes_in_append_mode" {
  command = plan

  variables {
    table_mapping = jsonencode(merge(var.sample, { write_mode = "append", delete_mode = "hard" }))
  }

  expect_failures = [var.table_mapping]
}
