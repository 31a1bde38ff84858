"""AWS Systems Manager Parameter Store: the table mapping when it is too large for an
environment variable (TABLE_MAPPING_PARAMETER)."""

from __future__ import annotations

from ddb2aurora.adapters import aws_errors, client


class ParameterError(Exception):
    """The parameter could not be read."""


def get_parameter(name: str) -> str:
    """The parameter's value (String, or SecureString decrypted)."""
    try:
        response = client("ssm").get_parameter(Name=name, WithDecryption=True)
    except aws_errors() as exc:
        raise ParameterError(f"cannot read SSM parameter {name!r}: {exc}") from exc
    return str(response["Parameter"]["Value"])
