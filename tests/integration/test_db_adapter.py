"""The loader's connection adapter against the real MariaDB (TLS on, self-signed CA)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pymysql
import pytest
from ddb2aurora.adapters import db
from ddb2aurora.adapters.secrets import Credentials
from ddb2aurora.settings import DatabaseSettings

pytestmark = pytest.mark.mariadb


@pytest.fixture
def settings(mariadb: Any) -> DatabaseSettings:
    return DatabaseSettings(
        host=mariadb.host,
        port=mariadb.port,
        name=mariadb.database,
        secret_arn="arn:aws:secretsmanager:us-east-1:123456789012:secret:unused",
        iam_user=None,
        tls_mode="required",
        tls_ca_bundle=None,
        connect_timeout_seconds=5,
    )


@pytest.fixture
def credentials(mariadb: Any) -> Iterator[list[Credentials]]:
    """A credentials provider that records each call (one per new connection)."""
    handed_out: list[Credentials] = []
    yield handed_out
    db.discard_connection()


def provider(mariadb: Any, handed_out: list[Credentials]) -> db.CredentialsProvider:
    def provide(_: DatabaseSettings) -> Credentials:
        handed_out.append(Credentials(mariadb.user, mariadb.password))
        return handed_out[-1]

    return provide


def scalar(connection: Any, sql: str) -> Any:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchone()[-1]


def test_session_is_tls_utf8mb4_utc_without_autocommit(
    mariadb: Any, settings: DatabaseSettings, credentials: list[Credentials]
) -> None:
    connection = db.get_connection(settings, provider(mariadb, credentials))
    with connection.cursor() as cursor:
        cursor.execute("SHOW SESSION STATUS LIKE 'Ssl_cipher'")
        assert cursor.fetchone()[1] != ""
    assert scalar(connection, "SELECT @@session.time_zone") == "+00:00"
    assert scalar(connection, "SELECT @@character_set_connection") == "utf8mb4"
    assert scalar(connection, "SELECT @@autocommit") == 0
    assert scalar(connection, "SELECT DATABASE()") == mariadb.database
    assert db.server_flavour(connection) == "mariadb"


def test_local_infile_is_enabled(
    mariadb: Any, settings: DatabaseSettings, credentials: list[Credentials], tmp_path: Path
) -> None:
    data = tmp_path / "rows.tsv"
    data.write_text("1\tone\n2\tdeux\n", encoding="utf-8")
    connection = db.get_connection(settings, provider(mariadb, credentials))
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMPORARY TABLE infile_probe (id INT, word VARCHAR(10))")
        cursor.execute("LOAD DATA LOCAL INFILE %s INTO TABLE infile_probe", (str(data),))
        cursor.execute("SELECT id, word FROM infile_probe ORDER BY id")
        assert cursor.fetchall() == ((1, "one"), (2, "deux"))
    connection.rollback()


def test_connection_is_reused_while_alive(
    mariadb: Any, settings: DatabaseSettings, credentials: list[Credentials]
) -> None:
    first = db.get_connection(settings, provider(mariadb, credentials))
    second = db.get_connection(settings, provider(mariadb, credentials))
    assert second is first
    assert len(credentials) == 1


def test_reconnects_with_fresh_credentials_after_the_server_kills_the_session(
    mariadb: Any, settings: DatabaseSettings, credentials: list[Credentials]
) -> None:
    connection = db.get_connection(settings, provider(mariadb, credentials))
    killed_id = connection.thread_id()
    killer = pymysql.connect(
        host=mariadb.host,
        port=mariadb.port,
        user=mariadb.user,
        password=mariadb.password,
        ssl_ca=mariadb.ssl_ca,
    )
    try:
        with killer.cursor() as cursor:
            cursor.execute(f"KILL CONNECTION {int(killed_id)}")
    finally:
        killer.close()

    reopened = db.get_connection(settings, provider(mariadb, credentials))
    assert reopened is not connection
    assert scalar(reopened, "SELECT CONNECTION_ID()") != killed_id
    assert scalar(reopened, "SELECT @@session.time_zone") == "+00:00"
    assert len(credentials) == 2


def test_verify_identity_accepts_the_server_signed_by_the_bundle(
    mariadb: Any, settings: DatabaseSettings, credentials: list[Credentials]
) -> None:
    verified = replace(settings, tls_mode="verify-identity", tls_ca_bundle=mariadb.ssl_ca)
    connection = db.get_connection(verified, provider(mariadb, credentials))
    assert scalar(connection, "SELECT 1") == 1


def test_verify_identity_rejects_a_server_the_bundle_does_not_vouch_for(
    mariadb: Any, settings: DatabaseSettings
) -> None:
    # The public CA bundle does not include the fixture's self-signed CA.
    untrusted = replace(
        settings, tls_mode="verify-identity", tls_ca_bundle="/etc/ssl/certs/ca-certificates.crt"
    )
    refused = r"verify-identity.*CERTIFICATE_VERIFY_FAILED"
    with pytest.raises(db.DatabaseConnectError, match=refused):
        db.open_connection(untrusted, Credentials(mariadb.user, mariadb.password))


def test_tls_disabled_connects_in_clear_text(
    mariadb: Any, settings: DatabaseSettings, credentials: list[Credentials]
) -> None:
    plain = replace(settings, tls_mode="disabled")
    connection = db.get_connection(plain, provider(mariadb, credentials))
    with connection.cursor() as cursor:
        cursor.execute("SHOW SESSION STATUS LIKE 'Ssl_cipher'")
        assert cursor.fetchone()[1] == ""


def test_bad_password_is_a_clear_error_without_the_password(
    mariadb: Any, settings: DatabaseSettings
) -> None:
    wrong = "Wr0ng-p@ssword-never-logged"
    with pytest.raises(db.DatabaseConnectError) as excinfo:
        db.open_connection(settings, Credentials(mariadb.user, wrong))
    message = str(excinfo.value)
    assert wrong not in message
    assert mariadb.password not in message
    assert f"{mariadb.host}:{mariadb.port}/{mariadb.database}" in message
    assert repr(mariadb.user) in message
    assert "Access denied" in message
    assert excinfo.value.__cause__ is None
    assert wrong not in repr(Credentials(mariadb.user, wrong))


def test_changed_settings_open_a_new_connection(
    mariadb: Any, settings: DatabaseSettings, credentials: list[Credentials]
) -> None:
    encrypted = db.get_connection(settings, provider(mariadb, credentials))
    without_tls = replace(settings, tls_mode="disabled")
    plain = db.get_connection(without_tls, provider(mariadb, credentials))
    assert plain is not encrypted
    assert encrypted.open is False
    with plain.cursor() as cursor:
        cursor.execute("SHOW SESSION STATUS LIKE 'Ssl_cipher'")
        assert cursor.fetchone()[1] == ""
