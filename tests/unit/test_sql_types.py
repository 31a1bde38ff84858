from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from ddb2aurora.sql_types import ConversionError, convert, parse_sql_type, quote_identifier


@pytest.mark.parametrize(
    ("type_text", "value", "fmt", "expected"),
    [
        ("VARCHAR(5)", "héllo", None, "héllo"),
        ("TEXT", "x" * 100, None, "x" * 100),
        ("INT", 2_147_483_647, None, "2147483647"),
        ("INT UNSIGNED", 4_294_967_295, None, "4294967295"),
        ("BIGINT", Decimal("12.000"), None, "12"),
        ("DECIMAL(38,0)", 10**37 * 9, None, str(10**37 * 9)),
        ("DECIMAL(9,6)", Decimal("-122.332071"), None, "-122.332071"),
        ("DECIMAL(9,6)", Decimal("1.50"), None, "1.50"),
        ("DOUBLE", Decimal("1E+300"), None, "1E+300"),
        ("BOOLEAN", True, None, "1"),
        ("DATE", "2026-11-30", None, "2026-11-30"),
        ("DATETIME(3)", "2026-11-30T01:02:03.456Z", "iso8601", "2026-11-30 01:02:03.456"),
        ("DATETIME(3)", "2026-11-30T03:02:03.456+02:00", "iso8601", "2026-11-30 01:02:03.456"),
        ("DATETIME(0)", 1_764_464_523, "epoch_seconds", "2025-11-30 01:02:03"),
        ("DATETIME(3)", 1_764_464_523_456, "epoch_millis", "2025-11-30 01:02:03.456"),
        ("JSON", {"a": [1, Decimal("2.50"), None, "x\n"]}, None, '{"a":[1,2.50,null,"x\\n"]}'),
        ("VARBINARY(4)", b"\x00\x01", None, b"\x00\x01"),
    ],
)
def test_conversions_keep_the_value(
    type_text: str, value: Any, fmt: str | None, expected: Any
) -> None:
    assert convert(value, parse_sql_type(type_text), fmt) == expected


@pytest.mark.parametrize(
    ("type_text", "value", "fmt", "message"),
    [
        ("VARCHAR(3)", "abcd", None, "exceeds"),
        ("VARCHAR(3)", 12, None, "expected a string"),
        ("INT", 2_147_483_648, None, "out of range"),
        ("INT UNSIGNED", -1, None, "out of range"),
        ("INT", Decimal("1.5"), None, "not an integer"),
        ("INT", True, None, "expected a number"),
        ("DECIMAL(9,6)", Decimal("1.1234567"), None, "fractional digits"),
        ("DECIMAL(9,6)", Decimal("1000"), None, "out of range"),
        ("DATETIME(3)", "2026-11-30T01:02:03.4567Z", "iso8601", "fractional digits"),
        ("DATETIME(3)", "yesterday", "iso8601", "ISO-8601"),
        ("DATETIME(3)", 1.5, "epoch_millis", "expected a number"),
        ("DATETIME(0)", 10**14, "epoch_seconds", "outside years"),
        ("BOOLEAN", 1, None, "expected a boolean"),
        ("DOUBLE", Decimal("1E-400"), None, "does not fit a DOUBLE"),
        ("DOUBLE", Decimal("1E+400"), None, "does not fit a DOUBLE"),
        ("VARBINARY(1)", b"ab", None, "exceed"),
        ("DATE", "2026-13-01", None, "ISO-8601"),
    ],
)
def test_lossy_conversions_are_refused(
    type_text: str, value: Any, fmt: str | None, message: str
) -> None:
    with pytest.raises(ConversionError, match=message):
        convert(value, parse_sql_type(type_text), fmt)


@pytest.mark.parametrize(
    "bad",
    [
        "FLOAT",
        "CHAR(2)",
        "VARCHAR",
        "VARCHAR(0)",
        "DECIMAL(66,2)",
        "DATETIME(7)",
        "TEXT(5)",
        "INT; DROP",
    ],
)
def test_unsupported_types_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="unsupported SQL type|UNSIGNED"):
        parse_sql_type(bad)


@pytest.mark.parametrize("bad", ["a`b", "a b", "1abc", "", "x" * 65, "a;drop"])
def test_identifiers_outside_the_pattern_cannot_be_quoted(bad: str) -> None:
    with pytest.raises(ValueError, match="invalid SQL identifier"):
        quote_identifier(bad)


def test_json_deeper_than_mariadb_accepts_is_refused() -> None:
    def nest(depth: int) -> object:
        value: object = "bottom"
        for _ in range(depth):
            value = {"k": value}
        return value

    json_type = parse_sql_type("JSON")
    assert convert(nest(31), json_type) == '{"k":' * 31 + '"bottom"' + "}" * 31
    with pytest.raises(ConversionError, match="nested deeper than 31"):
        convert(nest(32), json_type)
