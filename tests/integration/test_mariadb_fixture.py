"""The MariaDB fixture gives what the loader relies on: TLS, LOCAL INFILE, utf8mb4, strict."""

from __future__ import annotations

import pymysql
import pytest

from scripts.local.mariadb import connect

pytestmark = pytest.mark.mariadb


def test_tls_session_is_encrypted(db_conn):
    with db_conn.cursor() as cursor:
        cursor.execute("SHOW SESSION STATUS LIKE 'Ssl_cipher'")
        _, cipher = cursor.fetchone()
    assert cipher


def test_tls_verifies_against_the_shipped_ca(mariadb):
    conn = pymysql.connect(
        host=mariadb.host,
        port=mariadb.port,
        user=mariadb.user,
        password=mariadb.password,
        database=mariadb.database,
        ssl_ca=mariadb.ssl_ca,
        ssl_verify_cert=True,
        ssl_verify_identity=True,
    )
    try:
        with conn.cursor() as cursor:
            cursor.execute("SHOW SESSION STATUS LIKE 'Ssl_version'")
            assert cursor.fetchone()[1].startswith("TLS")
    finally:
        conn.close()


def test_load_data_local_infile_round_trips_awkward_text(db_conn, tmp_path):
    value = 'comma, "quote", back\\slash, tab\there, emoji 🦆'
    data_file = tmp_path / "rows.tsv"
    escaped = value.replace("\\", "\\\\").replace("\t", "\\t")
    data_file.write_text(f"1\t{escaped}\n", encoding="utf-8")
    with db_conn.cursor() as cursor:
        cursor.execute("CREATE TABLE t (id INT PRIMARY KEY, v TEXT) DEFAULT CHARSET=utf8mb4")
        cursor.execute(
            "LOAD DATA LOCAL INFILE %s INTO TABLE t CHARACTER SET utf8mb4", (str(data_file),)
        )
        db_conn.commit()
        cursor.execute("SELECT v FROM t WHERE id = 1")
        assert cursor.fetchone()[0] == value


def test_each_test_starts_with_an_empty_database(db_conn):
    with db_conn.cursor() as cursor:
        cursor.execute("SHOW TABLES")
        assert cursor.fetchall() == ()


def test_strict_mode_rejects_values_that_do_not_fit(db_conn):
    with db_conn.cursor() as cursor:
        cursor.execute("CREATE TABLE s (v VARCHAR(3))")
        with pytest.raises(pymysql.err.DataError):
            cursor.execute("INSERT INTO s VALUES ('toolong')")


def test_plain_tcp_without_tls_is_still_accepted(mariadb):
    conn = connect(mariadb.connection, ssl=False)
    try:
        with conn.cursor() as cursor:
            cursor.execute("SHOW SESSION STATUS LIKE 'Ssl_cipher'")
            assert cursor.fetchone()[1] == ""
    finally:
        conn.close()
