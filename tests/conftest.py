"""Session-wide fixtures: one real MariaDB server for the whole test session.

MariaDB is a hard requirement of the suite: when it is missing the fixture fails with
the install command instead of skipping, so a green run always means the DB was tested.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pymysql
import pytest

from scripts.local.mariadb import Connection, MariaDBError, MariaDBServer, connect


@dataclass(frozen=True)
class MariaDB:
    """How tests reach the session's server (app user, its own database)."""

    host: str
    port: int
    user: str
    password: str
    database: str
    ssl_ca: str
    connection: Connection


@pytest.fixture(scope="session")
def mariadb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MariaDB]:
    server = MariaDBServer(tmp_path_factory.mktemp("mariadb"))
    try:
        connection = server.start()
    except MariaDBError as error:
        pytest.fail(f"MariaDB is required for these tests: {error}", pytrace=False)
    try:
        yield MariaDB(
            host=connection.host,
            port=connection.port,
            user=connection.user,
            password=connection.password,
            database=connection.database,
            ssl_ca=connection.ssl_ca,
            connection=connection,
        )
    finally:
        server.stop()


@pytest.fixture
def db_conn(mariadb: MariaDB) -> Iterator[pymysql.connections.Connection]:
    """A fresh connection (TLS, autocommit off, LOCAL INFILE on) to an emptied database."""
    conn = connect(mariadb.connection, autocommit=False, local_infile=True)
    with conn.cursor() as cursor:
        cursor.execute(
            "SELECT table_name, table_type FROM information_schema.tables"
            " WHERE table_schema = DATABASE()"
        )
        tables = cursor.fetchall()
        cursor.execute("SET FOREIGN_KEY_CHECKS = 0")
        for name, table_type in tables:
            kind = "VIEW" if table_type == "VIEW" else "TABLE"
            cursor.execute(f"DROP {kind} IF EXISTS `{name.replace('`', '``')}`")
        cursor.execute("SET FOREIGN_KEY_CHECKS = 1")
    conn.commit()
    try:
        yield conn
    finally:
        conn.close()
