"""Session-wide fixtures: one real MariaDB server for the whole test session.

MariaDB is a hard requirement of the suite: when it is missing the fixture fails with
the install command instead of skipping, so a green run always means the DB was tested.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pymysql
import pytest

from scripts.build_zips import ZIP_NAMES
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


# ---- one local stack for the whole session ------------------------------------------
# Bringing a stack up (moto, MariaDB, terraform apply, data plane) takes minutes, so the
# end-to-end, operator and Terraform-wiring tests share one. Tests that break the stack's
# wiring are marked ``breaks_stack`` and run after all others; tests that search everything
# the session logged for secrets are marked ``scans_stack_logs`` and run next (the stack still
# up); tests that destroy it are marked ``destroys_stack`` and run last.

REPO_ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class SharedStack:
    state_dir: Path
    info: dict[str, Any]


@pytest.fixture(scope="session")
def shared_local_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SharedStack]:
    from scripts.local import stack as local_stack

    missing = [name for name in ZIP_NAMES.values() if not (REPO_ROOT / "dist" / name).exists()]
    if missing:
        pytest.fail(f"dist/ lacks {missing}: run `make build` (make localstack-test does)")
    state_dir = tmp_path_factory.mktemp("local-stack")
    try:
        info = local_stack.up(state_dir)
    except local_stack.StackError as error:
        local_stack.down(state_dir)
        pytest.fail(f"the local stack did not come up: {error}", pytrace=False)
    try:
        yield SharedStack(state_dir, info)
    finally:
        local_stack.down(state_dir, destroy_timeout=120)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def stage(item: pytest.Item) -> int:
        if item.get_closest_marker("destroys_stack"):
            return 3
        if item.get_closest_marker("scans_stack_logs"):
            return 2
        if item.get_closest_marker("breaks_stack"):
            return 1
        return 0

    items.sort(key=stage)  # stable: the usual order within each stage
