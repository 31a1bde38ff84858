mock_provider "aws" {
  mock_resource "aws_iam_role" {
    defaults = {
      arn = "arn:aws:iam::123456789012:role/test-function"
    }
  }
  mock_resource "aws_cloudwatch_log_group" {
    defaults = {
      arn = "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/test-function"
    }
  }
  mock_resource "aws_lambda_function" {
    defaults = {
      arn           = "arn:aws:lambda:eu-west-1:123456789012:function:test-function"
      qualified_arn = "arn:aws:lambda:eu-west-1:123456789012:function:test-function:1"
      invoke_arn    = "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:123456789012:function:test-function/invocations"
    }
  }
  mock_data "aws_iam_policy_document" {
    defaults = {
      json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}"
    }
  }
}

variables {
  function_name = "test-function"
  package_path  = "../../tests/fixtures/function.zip"
  handler       = "handler.handler"
  policy_statements = [
    {
      sid       = "ReadOneParameter"
      actions   = ["ssm:GetParameter"]
      resources = ["arn:aws:ssm:eu-west-1:123456789012:parameter/test"]
    },
  ]
}

run "builds_the_function_from_the_given_zip" {
  command = plan

  assert {
    condition = (
      aws_lambda_function.this.runtime == "python3.12" &&
      aws_lambda_function.this.architectures == tolist(["arm64"]) &&
      aws_lambda_function.this.source_code_hash == filebase64sha256("../../tests/fixtures/function.zip")
    )
    error_message = "Defaults: python3.12 on arm64, code hash from the given zip."
  }

  assert {
    condition     = aws_cloudwatch_log_group.this.name == "/aws/lambda/test-function" && aws_cloudwatch_log_group.this.retention_in_days == 365
    error_message = "The log group must be the function's, with retention."
  }

  assert {
    condition     = length(aws_lambda_function.this.vpc_config) == 0
    error_message = "Without vpc_config the function runs outside any VPC."
  }
}

run "runs_in_the_given_vpc" {
  command = plan

  variables {
    vpc_config = { subnet_ids = ["subnet-aaaa1111"], security_group_ids = ["sg-bbbb2222"] }
  }

  assert {
    condition     = tolist(aws_lambda_function.this.vpc_config[0].subnet_ids) == tolist(["subnet-aaaa1111"])
    error_message = "The function must run in the given subnets."
  }
}

run "rejects_a_wildcard_action" {
  command = plan

  variables {
    policy_statements = [{ sid = "TooBroad", actions = ["s3:*"], resources = ["arn:aws:s3:::bucket"] }]
  }

  expect_failures = [var.policy_statements]
}

run "rejects_an_unknown_architecture" {
  command = plan

  variables {
    architectures = ["ppc64"]
  }

  expect_failures = [var.architectures]
}
