from __future__ import annotations

from ddb2aurora.csv_dialect import CsvColumn, decode_row, encode_row, load_data_statement
from hypothesis import given
from hypothesis import strategies as st

field = st.one_of(st.none(), st.text(st.characters(blacklist_categories=("Cs",))))


@given(st.lists(field, min_size=1, max_size=8))
def test_rows_round_trip_and_stay_on_one_line(values: list[str | None]) -> None:
    line = encode_row(values)
    assert line.count("\n") == 1 and line.endswith("\n")
    assert decode_row(line) == values


def test_null_and_empty_string_stay_distinct() -> None:
    assert encode_row([None, "", "NULL", "\\N"]) == '\\N,"","NULL","\\\\N"\n'


def test_binary_is_hex_and_unhexed_by_the_load_clause() -> None:
    assert encode_row([b"\x00\xff"]) == '"00ff"\n'
    statement = load_data_statement(
        source="local", table="t", columns=[CsvColumn("a"), CsvColumn("b", binary=True)]
    )
    assert "(`a`, @hex_b) SET `b` = UNHEX(@hex_b)" in statement


def test_the_file_location_is_a_parameter_never_spliced() -> None:
    for source in ("local", "s3"):
        statement = load_data_statement(source=source, table="t", columns=[CsvColumn("a")])
        assert statement.count("%s") == 1
    assert "FROM S3 %s" in load_data_statement(source="s3", table="t", columns=[CsvColumn("a")])
