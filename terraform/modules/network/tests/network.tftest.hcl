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

run "default_creates_vpc_endpoints_security_groups_and_flow_log" {
  command = plan

  assert {
    condition     = length(aws_vpc.this) == 1 && aws_vpc.this[0].enable_dns_hostnames
    error_message = "expected one VPC with DNS hostnames (needed for the endpoint's private DNS)"
  }

  assert {
    condition     = length(aws_subnet.private) == 2
    error_message = "expected two private subnets"
  }

  assert {
    condition     = aws_subnet.private[0].availability_zone != aws_subnet.private[1].availability_zone
    error_message = "the private subnets must be in different Availability Zones"
  }

  assert {
    condition     = length(aws_default_security_group.this) == 1
    error_message = "the default security group must be managed (with no rules) so it allows nothing"
  }

  assert {
    condition     = aws_vpc_endpoint.s3[0].vpc_endpoint_type == "Gateway" && aws_vpc_endpoint.s3[0].service_name == "com.amazonaws.eu-west-1.s3"
    error_message = "expected an S3 gateway endpoint for the region"
  }

  assert {
    condition     = aws_vpc_endpoint.secretsmanager[0].vpc_endpoint_type == "Interface" && aws_vpc_endpoint.secretsmanager[0].private_dns_enabled
    error_message = "expected a Secrets Manager interface endpoint with private DNS"
  }

  assert {
    condition     = aws_vpc_endpoint.ssm[0].vpc_endpoint_type == "Interface" && aws_vpc_endpoint.ssm[0].service_name == "com.amazonaws.eu-west-1.ssm"
    error_message = "expected an SSM interface endpoint (the loader reads its mapping from Parameter Store)"
  }

  assert {
    condition     = aws_vpc_security_group_ingress_rule.endpoints_https[0].from_port == 443 && aws_vpc_security_group_ingress_rule.endpoints_https[0].cidr_ipv4 == "10.42.0.0/16"
    error_message = "the endpoint security group must allow HTTPS from the VPC"
  }

  assert {
    condition     = aws_vpc_security_group_ingress_rule.aurora_from_loader[0].from_port == 3306 && aws_vpc_security_group_ingress_rule.aurora_from_loader[0].to_port == 3306
    error_message = "Aurora must accept 3306 and nothing else"
  }

  assert {
    condition     = length(aws_vpc_security_group_ingress_rule.aurora_from_loader[0].cidr_ipv4 == null ? [] : ["cidr"]) == 0
    error_message = "Aurora's ingress must come from the loader security group, not a CIDR block"
  }

  assert {
    condition     = aws_flow_log.this[0].traffic_type == "ALL" && aws_cloudwatch_log_group.flow_log[0].retention_in_days == 365
    error_message = "expected a flow log of all traffic kept a year"
  }
}

run "existing_vpc_creates_no_vpc_and_uses_given_ids" {
  command = plan

  variables {
    create_vpc         = false
    vpc_id             = "vpc-0a1b2c3d"
    private_subnet_ids = ["subnet-0a1", "subnet-0b2"]
    route_table_ids    = ["rtb-0c3"]
  }

  assert {
    condition     = length(aws_vpc.this) == 0 && length(aws_subnet.private) == 0 && length(aws_route_table.private) == 0 && length(aws_default_security_group.this) == 0
    error_message = "create_vpc = false must create no VPC, subnet or route table"
  }

  assert {
    condition     = output.vpc_id == "vpc-0a1b2c3d" && output.private_subnet_ids == tolist(["subnet-0a1", "subnet-0b2"])
    error_message = "the given VPC and subnets must pass through"
  }

  assert {
    condition     = aws_vpc_endpoint.s3[0].vpc_id == "vpc-0a1b2c3d" && tolist(aws_vpc_endpoint.s3[0].route_table_ids) == tolist(["rtb-0c3"])
    error_message = "the S3 endpoint must attach to the given route tables"
  }

  assert {
    condition     = aws_vpc_security_group_ingress_rule.endpoints_https[0].cidr_ipv4 == "10.9.0.0/16"
    error_message = "the endpoint security group must allow the existing VPC's CIDR block"
  }
}

run "switches_off_give_zero_resources" {
  command = plan

  variables {
    create_vpc                     = false
    vpc_id                         = "vpc-0a1b2c3d"
    private_subnet_ids             = ["subnet-0a1", "subnet-0b2"]
    create_s3_endpoint             = false
    create_secretsmanager_endpoint = false
    create_ssm_endpoint            = false
    create_security_groups         = false
    create_flow_log                = false
  }

  assert {
    condition     = length(aws_vpc_endpoint.s3) == 0 && length(aws_vpc_endpoint.secretsmanager) == 0 && length(aws_vpc_endpoint.ssm) == 0 && length(aws_security_group.endpoints) == 0
    error_message = "endpoint switches off must create no endpoint"
  }

  assert {
    condition     = length(aws_security_group.loader) == 0 && length(aws_security_group.aurora) == 0 && length(aws_vpc_security_group_ingress_rule.aurora_from_loader) == 0
    error_message = "create_security_groups = false must create no security group"
  }

  assert {
    condition     = length(aws_flow_log.this) == 0 && length(aws_cloudwatch_log_group.flow_log) == 0 && length(aws_iam_role.flow_log) == 0
    error_message = "create_flow_log = false must create no flow log, log group or role"
  }

  assert {
    condition     = output.loader_security_group_id == null && output.aurora_security_group_id == null && output.s3_endpoint_id == null && output.secretsmanager_endpoint_id == null && output.ssm_endpoint_id == null
    error_message = "outputs of switched-off parts must be null"
  }
}

run "one_subnet_cidr_is_rejected" {
  command = plan

  variables {
    private_subnet_cidrs = ["10.42.0.0/20"]
  }

  expect_failures = [var.private_subnet_cidrs]
}

run "one_existing_subnet_is_rejected" {
  command = plan

  variables {
    create_vpc         = false
    vpc_id             = "vpc-0a1b2c3d"
    private_subnet_ids = ["subnet-0a1"]
  }

  expect_failures = [var.private_subnet_ids]
}

run "existing_vpc_without_subnets_is_rejected" {
  command = plan

  variables {
    create_vpc = false
    vpc_id     = "vpc-0a1b2c3d"
  }

  expect_failures = [output.private_subnet_ids]
}

run "subnets_in_one_az_are_rejected" {
  command = plan

  variables {
    azs = ["eu-west-1a", "eu-west-1a"]
  }

  expect_failures = [var.azs]
}

run "single_az_for_two_subnets_is_rejected" {
  command = plan

  variables {
    azs = ["eu-west-1a"]
  }

  expect_failures = [var.azs]
}

run "bad_cidr_is_rejected" {
  command = plan

  variables {
    private_subnet_cidrs = ["10.42.0.0/20", "not-a-cidr"]
  }

  expect_failures = [var.private_subnet_cidrs]
}
