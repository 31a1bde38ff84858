"""The loader's database connection (PyMySQL).

Credentials come from Secrets Manager (``DB_SECRET_ARN``) or an IAM authentication
token (``DB_IAM_AUTH``; the server then asks for the ``mysql_clear_password`` plugin,
which PyMySQL speaks, so the token only ever travels over TLS). Every session uses
utf8mb4, UTC (``time_zone = '+00:00'``), autocommit off and ``LOCAL INFILE`` enabled.

One connection is cached per execution environment and reused across invocations;
``get_connection`` pings it and opens a new one (with fresh credentials: IAM tokens
expire after 15 minutes, secrets rotate) when it has dropped.
"""

from __future__ import annotations

import contextlib
import ssl
from collections.abc import Callable
from typing import Any, Literal

import pymysql

from ddb2aurora.adapters import client, secrets
from ddb2aurora.adapters.secrets import Credentials
from ddb2aurora.settings import DatabaseSettings

ServerFlavour = Literal["mariadb", "mysql"]
CredentialsProvider = Callable[[DatabaseSettings], Credentials]

Connection = Any  # pymysql.connections.Connection; PyMySQL ships no type information

_cached_connection: Connection | None = None
_cached_for: DatabaseSettings | None = None


class DatabaseConnectError(Exception):
    """The connection could not be opened; the message names host, database and user,
    never the password or token."""


def resolve_credentials(settings: DatabaseSettings) -> Credentials:
    """Credentials for a new connection: the secret's username and password, or an IAM
    authentication token for ``DB_USER``."""
    if settings.iam_user is not None:
        token = client("rds").generate_db_auth_token(
            DBHostname=settings.host, Port=settings.port, DBUsername=settings.iam_user
        )
        return Credentials(username=settings.iam_user, password=str(token))
    if settings.secret_arn is None:
        raise DatabaseConnectError("no credentials configured (DB_SECRET_ARN or DB_IAM_AUTH)")
    return secrets.get_database_credentials(settings.secret_arn)


def tls_context(settings: DatabaseSettings) -> ssl.SSLContext | None:
    """The TLS context for ``DB_TLS_MODE``: None when disabled; encryption without
    certificate checks when ``required``; CA and host name verified when
    ``verify-identity``."""
    if settings.tls_mode == "disabled":
        return None
    if settings.tls_mode == "verify-identity":
        context = ssl.create_default_context(cafile=settings.tls_ca_bundle)
        context.check_hostname = True
        context.verify_mode = ssl.CERT_REQUIRED
        return context
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # "required": encrypted, server not authenticated
    return context


def open_connection(settings: DatabaseSettings, credentials: Credentials) -> Connection:
    """A new connection. With TLS configured PyMySQL refuses a server that cannot do TLS
    rather than falling back to plain text."""
    context = tls_context(settings)
    tls: dict[str, Any] = {"ssl": context} if context is not None else {"ssl_disabled": True}
    try:
        return pymysql.connect(
            host=settings.host,
            port=settings.port,
            user=credentials.username,
            password=credentials.password,
            database=settings.name,
            charset="utf8mb4",
            autocommit=False,
            local_infile=True,
            connect_timeout=settings.connect_timeout_seconds,
            init_command="SET time_zone = '+00:00'",
            **tls,
        )
    except (pymysql.err.Error, OSError) as exc:
        detail = str(exc)
        if credentials.password:
            detail = detail.replace(credentials.password, "***")
        raise DatabaseConnectError(
            f"cannot connect to {settings.host}:{settings.port}/{settings.name} "
            f"as {credentials.username!r} (TLS {settings.tls_mode}): {detail}"
        ) from None


def get_connection(
    settings: DatabaseSettings, credentials: CredentialsProvider = resolve_credentials
) -> Connection:
    """The cached connection if it is for these settings and still answers a ping, else a
    new one (now cached)."""
    global _cached_connection, _cached_for  # noqa: PLW0603 - one per execution environment
    if _cached_connection is not None and _cached_for != settings:
        discard_connection()
    if _cached_connection is not None:
        try:
            _cached_connection.ping(reconnect=False)
        except (pymysql.err.Error, OSError):
            discard_connection()
        else:
            return _cached_connection
    _cached_connection = open_connection(settings, credentials(settings))
    _cached_for = settings
    return _cached_connection


def discard_connection() -> None:
    """Close and forget the cached connection (after an error left it in doubt)."""
    global _cached_connection
    connection, _cached_connection = _cached_connection, None
    if connection is not None:
        with contextlib.suppress(pymysql.err.Error, OSError):
            connection.close()  # already gone is fine: closing is only courtesy to the server


def server_flavour(connection: Connection) -> ServerFlavour:
    """``mariadb`` or ``mysql`` (Aurora MySQL), from ``VERSION()``: the SQL differs slightly
    (for example ``LOAD DATA FROM S3`` exists only on Aurora)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT VERSION()")
        (version,) = cursor.fetchone()
    return "mariadb" if "mariadb" in str(version).lower() else "mysql"
