"""AWS Secrets Manager: database credentials. The password is never logged or put in
an exception message; ``Credentials`` leaves it out of its repr."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from ddb2aurora.adapters import aws_errors, client


class SecretError(Exception):
    """The secret could not be read or lacks a field (the message never holds its value)."""


@dataclass(frozen=True, slots=True)
class Credentials:
    username: str
    password: str = field(repr=False)


def get_database_credentials(secret_arn: str) -> Credentials:
    """``username`` and ``password`` from a JSON secret (Aurora's managed master secret has
    this shape). Read at each new connection, so a rotated secret is picked up."""
    try:
        response = client("secretsmanager").get_secret_value(SecretId=secret_arn)
    except aws_errors() as exc:
        raise SecretError(f"cannot read secret {secret_arn}: {exc}") from exc
    try:
        body = json.loads(response["SecretString"])
    except (KeyError, TypeError, json.JSONDecodeError):
        raise SecretError(f"secret {secret_arn} is not a JSON SecretString") from None
    if not isinstance(body, dict):
        raise SecretError(f"secret {secret_arn} is not a JSON object")
    missing = [name for name in ("username", "password") if not isinstance(body.get(name), str)]
    if missing:
        raise SecretError(f"secret {secret_arn} lacks string field(s): {', '.join(missing)}")
    return Credentials(username=body["username"], password=body["password"])
