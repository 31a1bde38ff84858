"""Property: whatever the values, CSV written by the dialect and read back by its own
LOAD DATA clause on the real MariaDB returns exactly the same values."""

from __future__ import annotations

import os
import tempfile
from decimal import Decimal
from typing import Any

import pytest
from ddb2aurora.csv_dialect import CsvColumn, encode_row, load_data_statement
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.mariadb

# Any Unicode scalar value (surrogates cannot be UTF-8 encoded, so no string holds them)
any_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=60)
awkward_text = st.lists(
    st.sampled_from(
        [",", '"', "\\", "\n", "\r", "\t", "\0", "\\N", "NULL", " ", "é", "😀", "\x1a", "'"]
    ),
    max_size=8,
).map("".join)
text_value = st.one_of(st.none(), st.just(""), any_text, awkward_text)
number_38 = st.one_of(
    st.none(),
    st.integers(min_value=-(10**38) + 1, max_value=10**38 - 1).map(str),
)
decimal_38_10 = st.one_of(
    st.none(),
    st.decimals(
        min_value=Decimal("-9999999999999999999999999999.9999999999"),
        max_value=Decimal("9999999999999999999999999999.9999999999"),
        places=10,
        allow_nan=False,
        allow_infinity=False,
    ).map(lambda d: format(d, "f")),
)
binary_value = st.one_of(st.none(), st.binary(max_size=40))
row_strategy = st.tuples(text_value, text_value, number_38, decimal_38_10, binary_value)

COLUMNS = [
    CsvColumn("s1"),
    CsvColumn("s2"),
    CsvColumn("n38"),
    CsvColumn("d38"),
    CsvColumn("b", binary=True),
]


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=st.lists(row_strategy, min_size=1, max_size=25))
def test_values_survive_csv_and_load_data_exactly(
    db_conn: Any, rows: list[tuple[Any, ...]]
) -> None:
    with db_conn.cursor() as cursor:
        cursor.execute("DROP TEMPORARY TABLE IF EXISTS roundtrip")
        cursor.execute(
            "CREATE TEMPORARY TABLE roundtrip (s1 LONGTEXT NULL, s2 VARCHAR(200) NULL, "
            "n38 DECIMAL(38,0) NULL, d38 DECIMAL(38,10) NULL, b VARBINARY(64) NULL) "
            "DEFAULT CHARSET=utf8mb4"
        )
        # a sequence column keeps file order
        cursor.execute("ALTER TABLE roundtrip ADD COLUMN line_no INT AUTO_INCREMENT PRIMARY KEY")
        handle, path = tempfile.mkstemp(suffix=".csv")
        with os.fdopen(handle, "wb") as sink:
            for row in rows:
                sink.write(encode_row(row).encode("utf-8"))
        try:
            cursor.execute(
                load_data_statement(source="local", table="roundtrip", columns=COLUMNS), (path,)
            )
            assert cursor.rowcount == len(rows)
            cursor.execute("SHOW WARNINGS")
            assert cursor.fetchall() == ()
        finally:
            os.unlink(path)
        cursor.execute("SELECT s1, s2, n38, d38, b FROM roundtrip ORDER BY line_no")
        loaded = cursor.fetchall()
    expected = [
        (
            s1,
            s2,
            None if n is None else Decimal(n),
            None if d is None else Decimal(d),
            b,
        )
        for s1, s2, n, d, b in rows
    ]
    assert [tuple(r) for r in loaded] == expected
