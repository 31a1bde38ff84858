"""The database connection for operator commands: the loader's own connection code
(TLS, utf8mb4, UTC), with credentials from the stack's secret or the local stack."""

from __future__ import annotations

import json
from typing import Any

from ddb2aurora.adapters.db import DatabaseConnectError, open_connection
from ddb2aurora.adapters.secrets import Credentials
from ddb2aurora.ops.errors import OpsError
from ddb2aurora.ops.target import Target
from ddb2aurora.settings import DatabaseSettings

Connection = Any


def connect(target: Target) -> Connection:
    if target.local_mysql:
        mysql = target.local_mysql
        settings = DatabaseSettings(
            host=str(mysql["host"]),
            port=int(mysql["port"]),
            name=str(mysql["database"]),
            secret_arn=None,
            iam_user=None,
            tls_mode="required",
            tls_ca_bundle=None,
            connect_timeout_seconds=10,
        )
        credentials = Credentials(str(mysql["user"]), str(mysql["password"]))
    else:
        settings = DatabaseSettings(
            host=target.require("db_host"),
            port=target.db_port,
            name=target.require("db_name"),
            secret_arn=target.require("db_secret_arn"),
            iam_user=None,
            tls_mode=target.db_tls_mode,  # type: ignore[arg-type]
            tls_ca_bundle=target.db_ca_bundle,
            connect_timeout_seconds=10,
        )
        credentials = _secret_credentials(target, settings.secret_arn or "")
    try:
        return open_connection(settings, credentials)
    except DatabaseConnectError as error:
        raise OpsError(
            f"{error}; the database must be reachable from here (VPN, bastion tunnel, or run "
            "inside the VPC) — pass --db-host/--db-port for a tunnel"
        ) from None


def _secret_credentials(target: Target, secret_arn: str) -> Credentials:
    response = target.aws.client("secretsmanager").get_secret_value(SecretId=secret_arn)
    try:
        body = json.loads(response["SecretString"])
        return Credentials(str(body["username"]), str(body["password"]))
    except (KeyError, TypeError, ValueError):
        raise OpsError(
            f"secret {secret_arn} is not a JSON object with username and password"
        ) from None
