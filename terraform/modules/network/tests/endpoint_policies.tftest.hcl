mock_provider "aws" {
  mock_data "aws_region" {
    defaults = {
      name = "eu-west-1"
    }
  }

  mock_data "aws_caller_identity" {
    defaults = {
      account_id = "123456789012"
    }
  }

  mock_data "aws_partition" {
    defaults = {
      partition = "aws"
    }
  }

  mock_data "aws_availability_zones" {
    defaults = {
      names = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
    }
  }

  mock_data "aws_vpc" {
    defaults = {
      cidr_block = "10.9.0.0/16"
    }
  }

  mock_data "aws_prefix_list" {
    defaults = {
      id = "pl-6da54004"
    }
  }

  mock_data "aws_iam_policy_document" {
    defaults = {
      json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}"
    }
  }

  mock_resource "aws_cloudwatch_log_group" {
    defaults = {
      arn = "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/vpc-flow-log/test"
    }
  }

  mock_resource "aws_iam_role" {
    defaults = {
      arn = "arn:aws:iam::123456789012:role/test-flow-log"
    }
  }
}

variables {
  name = "test"
}

# Least privilege by default: only what the pipeline calls through each endpoint, only by
# principals of this account (the mock account 123456789012), never a "*" action.
run "default_policies_allow_only_the_pipelines_calls_from_this_account" {
  command = plan

  assert {
    condition = alltrue(flatten([
      for policy in [aws_vpc_endpoint.s3[0].policy, aws_vpc_endpoint.secretsmanager[0].policy, aws_vpc_endpoint.ssm[0].policy] : [
        for statement in jsondecode(policy).Statement : [for action in statement.Action : !strcontains(action, "*")]
      ]
    ]))
    error_message = "a default endpoint policy allows a wildcard action"
  }

  assert {
    condition = alltrue(flatten([
      for policy in [aws_vpc_endpoint.s3[0].policy, aws_vpc_endpoint.secretsmanager[0].policy, aws_vpc_endpoint.ssm[0].policy] : [
        for statement in jsondecode(policy).Statement : statement.Effect == "Allow" && try(statement.Condition.StringEquals["aws:PrincipalAccount"], null) == "123456789012"
      ]
    ]))
    error_message = "every statement of the default policies must be limited to principals of this account (aws:PrincipalAccount)"
  }

  assert {
    condition = alltrue(flatten([
      for policy in [aws_vpc_endpoint.s3[0].policy, aws_vpc_endpoint.secretsmanager[0].policy, aws_vpc_endpoint.ssm[0].policy] : [
        for statement in jsondecode(policy).Statement : [for resource in statement.Resource : resource != "*"]
      ]
    ]))
    error_message = "a default endpoint policy allows Resource *"
  }

  assert {
    condition     = toset(flatten([for statement in jsondecode(aws_vpc_endpoint.s3[0].policy).Statement : statement.Action])) == toset(["s3:GetObject", "s3:ListBucket"])
    error_message = "the S3 endpoint must allow exactly s3:GetObject and s3:ListBucket (the loader's read, Aurora's LOAD DATA FROM S3)"
  }

  assert {
    condition = alltrue([
      for statement in jsondecode(aws_vpc_endpoint.s3[0].policy).Statement : try(statement.Condition.StringEquals["s3:ResourceAccount"], null) == "123456789012"
    ])
    error_message = "without s3_endpoint_bucket_arns the S3 endpoint must be limited to this account's buckets (s3:ResourceAccount)"
  }

  assert {
    condition = jsondecode(aws_vpc_endpoint.secretsmanager[0].policy).Statement[0].Action == ["secretsmanager:GetSecretValue"] && jsondecode(aws_vpc_endpoint.secretsmanager[0].policy).Statement[0].Resource == [
      "arn:aws:secretsmanager:eu-west-1:123456789012:secret:*"
    ]
    error_message = "the Secrets Manager endpoint must allow only GetSecretValue on this account's secrets in the region"
  }

  assert {
    condition = jsondecode(aws_vpc_endpoint.ssm[0].policy).Statement[0].Action == ["ssm:GetParameter"] && jsondecode(aws_vpc_endpoint.ssm[0].policy).Statement[0].Resource == [
      "arn:aws:ssm:eu-west-1:123456789012:parameter/*"
    ]
    error_message = "the SSM endpoint must allow only GetParameter on this account's parameters in the region"
  }

  assert {
    condition     = output.endpoint_policies.s3 == aws_vpc_endpoint.s3[0].policy && output.endpoint_policies.ssm == aws_vpc_endpoint.ssm[0].policy
    error_message = "output endpoint_policies must report the documents set on the endpoints"
  }
}

run "given_resources_scope_the_default_policies" {
  command = plan

  variables {
    s3_endpoint_bucket_arns             = ["arn:aws:s3:::test-delivery"]
    secretsmanager_endpoint_secret_arns = ["arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!cluster-abc-AbCdEf"]
    ssm_endpoint_parameter_arns         = ["arn:aws:ssm:eu-west-1:123456789012:parameter/test/table-mapping"]
  }

  assert {
    condition = {
      for statement in jsondecode(aws_vpc_endpoint.s3[0].policy).Statement : statement.Sid => statement.Resource
      } == {
      ReadObjects = ["arn:aws:s3:::test-delivery/*"]
      ListBuckets = ["arn:aws:s3:::test-delivery"]
    }
    error_message = "the S3 endpoint must allow reading the given bucket's objects and listing it, nothing else"
  }

  assert {
    condition = alltrue([
      for statement in jsondecode(aws_vpc_endpoint.s3[0].policy).Statement : try(keys(statement.Condition.StringEquals), null) == ["aws:PrincipalAccount"]
    ])
    error_message = "with given buckets the S3 endpoint keeps the account condition and needs no s3:ResourceAccount"
  }

  assert {
    condition     = jsondecode(aws_vpc_endpoint.secretsmanager[0].policy).Statement[0].Resource == ["arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!cluster-abc-AbCdEf"]
    error_message = "the Secrets Manager endpoint must allow only the given secret"
  }

  assert {
    condition     = jsondecode(aws_vpc_endpoint.ssm[0].policy).Statement[0].Resource == ["arn:aws:ssm:eu-west-1:123456789012:parameter/test/table-mapping"]
    error_message = "the SSM endpoint must allow only the given parameter"
  }
}

# A shared VPC: the user replaces a policy (here AWS's full-access document, which switches
# the restriction off); the others keep the module's default.
run "given_policy_replaces_the_default" {
  command = plan

  variables {
    s3_endpoint_policy = jsonencode({
      Version   = "2012-10-17"
      Statement = [{ Effect = "Allow", Principal = "*", Action = "*", Resource = "*" }]
    })
  }

  assert {
    condition     = jsondecode(aws_vpc_endpoint.s3[0].policy) == jsondecode(var.s3_endpoint_policy)
    error_message = "s3_endpoint_policy must replace the S3 endpoint's default policy as given"
  }

  assert {
    condition     = jsondecode(aws_vpc_endpoint.ssm[0].policy).Statement[0].Action == ["ssm:GetParameter"]
    error_message = "replacing one endpoint's policy must leave the others' defaults"
  }
}

run "no_endpoints_give_null_policies" {
  command = plan

  variables {
    create_s3_endpoint             = false
    create_secretsmanager_endpoint = false
    create_ssm_endpoint            = false
  }

  assert {
    condition     = output.endpoint_policies == { s3 = null, secretsmanager = null, ssm = null }
    error_message = "endpoint_policies must be null for endpoints not created"
  }
}

run "policy_that_is_not_json_is_rejected" {
  command = plan

  variables {
    s3_endpoint_policy = "s3:GetObject"
  }

  expect_failures = [var.s3_endpoint_policy]
}

run "json_without_statement_is_rejected" {
  command = plan

  variables {
    secretsmanager_endpoint_policy = "{\"Version\":\"2012-10-17\"}"
    ssm_endpoint_policy            = "[]"
  }

  expect_failures = [var.secretsmanager_endpoint_policy, var.ssm_endpoint_policy]
}

run "object_arn_as_bucket_is_rejected" {
  command = plan

  variables {
    s3_endpoint_bucket_arns = ["arn:aws:s3:::test-delivery/data/*"]
  }

  expect_failures = [var.s3_endpoint_bucket_arns]
}

run "bad_secret_and_parameter_arns_are_rejected" {
  command = plan

  variables {
    secretsmanager_endpoint_secret_arns = ["rds!cluster-abc"]
    ssm_endpoint_parameter_arns         = ["/test/table-mapping"]
  }

  expect_failures = [var.secretsmanager_endpoint_secret_arns, var.ssm_endpoint_parameter_arns]
}
