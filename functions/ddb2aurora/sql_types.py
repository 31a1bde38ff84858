"""The SQL column types a mapping may use, their DDL, and the conversion of item values.

Conversion never loses information silently: a value that does not fit its column
(too long, out of range, more fractional digits than the column keeps, wrong kind)
raises :class:`ConversionError`, and the transform reports the record as failed
instead of letting ``LOAD DATA`` truncate it.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import Enum
from functools import cache
from typing import Any, Literal

Dialect = Literal["mariadb", "mysql"]
IDENTIFIER_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]{0,63}$"
_IDENTIFIER = re.compile(IDENTIFIER_PATTERN)
MAX_PRIMARY_KEY_BYTES = 3072
_EPOCH = dt.datetime(1970, 1, 1)


class ConversionError(ValueError):
    """A value that cannot be stored in its column without loss."""


def quote_identifier(name: str) -> str:
    """Backtick-quote an identifier that matched the mapping's identifier pattern."""
    if not _IDENTIFIER.match(name):
        raise ValueError(f"invalid SQL identifier {name!r}")
    return f"`{name}`"


class Kind(Enum):
    VARCHAR = "VARCHAR"
    TEXT = "TEXT"
    INTEGER = "INTEGER"
    DECIMAL = "DECIMAL"
    DOUBLE = "DOUBLE"
    BOOLEAN = "BOOLEAN"
    DATE = "DATE"
    DATETIME = "DATETIME"
    JSON = "JSON"
    BINARY = "BINARY"


_INT_BITS = {"TINYINT": 8, "SMALLINT": 16, "INT": 32, "BIGINT": 64}
_TEXT_BYTES = {"TEXT": 65_535, "MEDIUMTEXT": 16_777_215, "LONGTEXT": 4_294_967_295}
_BLOB_BYTES = {"BLOB": 65_535, "MEDIUMBLOB": 16_777_215, "LONGBLOB": 4_294_967_295}
_TYPE = re.compile(
    r"^(?P<name>[A-Z]+)(?:\((?P<a>\d+)(?:,\s*(?P<b>\d+))?\))?(?P<unsigned>\s+UNSIGNED)?$"
)
DATETIME_FORMATS = ("iso8601", "epoch_seconds", "epoch_millis")


@dataclass(frozen=True, slots=True)
class SqlType:
    """One parsed column type (``VARCHAR(255)``, ``DECIMAL(9,6)``, ``DATETIME(3)`` …)."""

    kind: Kind
    ddl: str
    length: int = 0  # VARCHAR/VARBINARY length, TEXT/BLOB byte limit, DATETIME precision
    scale: int = 0  # DECIMAL scale
    minimum: int = 0
    maximum: int = 0

    @property
    def binary(self) -> bool:
        return self.kind is Kind.BINARY

    @property
    def key_bytes(self) -> int | None:
        """Bytes the type takes in an index, or None when it cannot be a key column."""
        match self.kind:
            case Kind.VARCHAR:
                return self.length * 4
            case Kind.BINARY if self.ddl.startswith("VARBINARY"):
                return self.length
            case Kind.INTEGER | Kind.BOOLEAN:
                return 8
            case Kind.DECIMAL:
                return 32
            case Kind.DATE | Kind.DATETIME:
                return 8
            case _:
                return None


def parse_sql_type(text: str) -> SqlType:
    """Parse a mapping's type string; raise ValueError saying what is accepted."""
    match = _TYPE.match(text.strip().upper())
    if not match:
        raise ValueError(f"unsupported SQL type {text!r}")
    name, a, b = match["name"], match["a"], match["b"]
    unsigned = bool(match["unsigned"])
    if unsigned and name not in _INT_BITS:
        raise ValueError(f"UNSIGNED only applies to integer types, not {text!r}")
    if name in _INT_BITS and a is None:
        bits = _INT_BITS[name]
        low, high = (0, 2**bits - 1) if unsigned else (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1)
        return SqlType(Kind.INTEGER, name + (" UNSIGNED" if unsigned else ""), 0, 0, low, high)
    if name == "VARCHAR" and a is not None and b is None and 1 <= int(a) <= 16_383:
        return SqlType(Kind.VARCHAR, f"VARCHAR({int(a)})", int(a))
    if name in _TEXT_BYTES and a is None:
        return SqlType(Kind.TEXT, name, _TEXT_BYTES[name])
    if name == "VARBINARY" and a is not None and b is None and 1 <= int(a) <= 65_532:
        return SqlType(Kind.BINARY, f"VARBINARY({int(a)})", int(a))
    if name in _BLOB_BYTES and a is None:
        return SqlType(Kind.BINARY, name, _BLOB_BYTES[name])
    if name in ("DECIMAL", "NUMERIC") and a is not None:
        precision, scale = int(a), int(b or 0)
        if 1 <= precision <= 65 and 0 <= scale <= min(30, precision):
            return SqlType(Kind.DECIMAL, f"DECIMAL({precision},{scale})", precision, scale)
    if name == "DOUBLE" and a is None:
        return SqlType(Kind.DOUBLE, "DOUBLE")
    if name in ("BOOLEAN", "BOOL") and a is None:
        return SqlType(Kind.BOOLEAN, "BOOLEAN", 0, 0, 0, 1)
    if name == "DATE" and a is None:
        return SqlType(Kind.DATE, "DATE")
    if name == "DATETIME" and b is None and 0 <= int(a or 0) <= 6:
        return SqlType(Kind.DATETIME, f"DATETIME({int(a or 0)})", int(a or 0))
    if name == "JSON" and a is None:
        return SqlType(Kind.JSON, "JSON")
    raise ValueError(
        f"unsupported SQL type {text!r}: use VARCHAR(n), TEXT, MEDIUMTEXT, LONGTEXT, "
        "TINYINT/SMALLINT/INT/BIGINT [UNSIGNED], DECIMAL(p,s), DOUBLE, BOOLEAN, DATE, "
        "DATETIME(0-6), JSON, VARBINARY(n), BLOB, MEDIUMBLOB or LONGBLOB"
    )


def key_collation(dialect: Dialect) -> str:
    """Exact, case- and trailing-space-sensitive collation for string key columns.

    DynamoDB keys ``"a"`` and ``"a "`` are different items; PAD SPACE collations would
    merge them. MySQL 8 has ``utf8mb4_0900_bin`` (NO PAD); MariaDB has ``utf8mb4_nopad_bin``.
    """
    return "utf8mb4_nopad_bin" if dialect == "mariadb" else "utf8mb4_0900_bin"


# ---- value conversion -------------------------------------------------------------


def _kind_name(value: Any) -> str:
    return type(value).__name__


def _as_number(value: Any) -> int | Decimal:
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise ConversionError(f"expected a number, got {_kind_name(value)}")
    return value


def _decimal_text(value: int | Decimal) -> str:
    return str(value) if isinstance(value, int) else format(value, "f")


# MariaDB's JSON check refuses documents nested 32 levels deep (MySQL allows 100);
# refusing them here keeps one such value from failing a whole object at load time.
MAX_JSON_DEPTH = 31


def json_text(value: Any, depth: int = 0) -> str:
    """Serialize a deserialized item value as JSON text, keeping numbers exact."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | Decimal):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bytes):
        return json.dumps(base64.b64encode(value).decode())
    if isinstance(value, dict | list | tuple | set | frozenset) and depth >= MAX_JSON_DEPTH:
        raise ConversionError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
    if isinstance(value, dict):
        members = (
            f"{json.dumps(str(k), ensure_ascii=False)}:{json_text(v, depth + 1)}"
            for k, v in value.items()
        )
        return "{" + ",".join(members) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(json_text(v, depth + 1) for v in value) + "]"
    if isinstance(value, set | frozenset):
        return json_text(sorted(value), depth)
    raise ConversionError(f"cannot store {_kind_name(value)} as JSON")


def _microseconds(value: Any, unit: int) -> int:
    number = _as_number(value)
    if isinstance(number, int):  # the common case (epoch ms), exact without Decimal
        return number * unit
    micros = Decimal(number) * unit
    if micros != micros.to_integral_value():
        raise ConversionError(f"timestamp {number} has sub-microsecond digits")
    return int(micros)


def _from_epoch(value: Any, unit: int) -> dt.datetime:
    try:
        return _EPOCH + dt.timedelta(microseconds=_microseconds(value, unit))
    except OverflowError:
        raise ConversionError(f"timestamp {value} is outside years 1000-9999") from None


def _datetime_from(value: Any, fmt: str | None) -> dt.datetime:
    if fmt == "epoch_seconds":
        moment = _from_epoch(value, 1_000_000)
    elif fmt == "epoch_millis":
        moment = _from_epoch(value, 1_000)
    else:
        if not isinstance(value, str):
            raise ConversionError(f"expected an ISO-8601 string, got {_kind_name(value)}")
        try:
            moment = dt.datetime.fromisoformat(value)
        except ValueError as exc:
            raise ConversionError(f"not an ISO-8601 timestamp: {value[:40]!r}") from exc
        if moment.tzinfo is dt.UTC:  # "Z": already UTC, skip the conversion
            moment = moment.replace(tzinfo=None)
        elif moment.tzinfo is not None:
            moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
    if not 1000 <= moment.year <= 9999:
        raise ConversionError(f"timestamp {moment.isoformat()} is outside years 1000-9999")
    return moment


def _to_varchar(value: Any, sql_type: SqlType, fmt: str | None) -> str:
    if not isinstance(value, str):
        raise ConversionError(f"expected a string, got {_kind_name(value)}")
    if len(value) > sql_type.length:
        raise ConversionError(f"string of {len(value)} characters exceeds {sql_type.ddl}")
    return value


def _to_text(value: Any, sql_type: SqlType, fmt: str | None) -> str:
    if not isinstance(value, str):
        raise ConversionError(f"expected a string, got {_kind_name(value)}")
    if len(value) * 4 > sql_type.length and len(value.encode()) > sql_type.length:
        raise ConversionError(f"string exceeds the {sql_type.ddl} limit")
    return value


def _to_integer(value: Any, sql_type: SqlType, fmt: str | None) -> str:
    number = _as_number(value)
    if isinstance(number, Decimal):
        if number != number.to_integral_value():
            raise ConversionError(f"{number} is not an integer")
        number = int(number)
    if not sql_type.minimum <= number <= sql_type.maximum:
        raise ConversionError(f"{number} is out of range for {sql_type.ddl}")
    return str(number)


def _to_boolean(value: Any, sql_type: SqlType, fmt: str | None) -> str:
    if not isinstance(value, bool):
        raise ConversionError(f"expected a boolean, got {_kind_name(value)}")
    return "1" if value else "0"


@cache
def _decimal_bound(integer_digits: int) -> Decimal:
    return Decimal(10) ** integer_digits


def _to_decimal(value: Any, sql_type: SqlType, fmt: str | None) -> str:
    number = _as_number(value)
    exact = number if isinstance(number, Decimal) else Decimal(number)
    exponent = exact.as_tuple().exponent if exact else 0
    if isinstance(exponent, int) and -exponent > sql_type.scale:
        # trailing zeros do not count; stripped exactly (normalize() would round to the
        # context's 28 digits and let a longer fraction through, for LOAD DATA to truncate)
        digits = "".join(map(str, exact.as_tuple().digits))
        exponent += len(digits) - len(digits.rstrip("0"))
    if isinstance(exponent, int) and -exponent > sql_type.scale:
        raise ConversionError(f"{number} has more than {sql_type.scale} fractional digits")
    if abs(exact) >= _decimal_bound(sql_type.length - sql_type.scale):
        raise ConversionError(f"{number} is out of range for {sql_type.ddl}")
    return _decimal_text(number)


def _to_double(value: Any, sql_type: SqlType, fmt: str | None) -> str:
    number = _as_number(value)
    try:
        as_float = float(number)
    except (OverflowError, InvalidOperation) as exc:
        raise ConversionError(f"{number} does not fit a DOUBLE") from exc
    if as_float in (float("inf"), float("-inf")) or (as_float == 0 and number != 0):
        raise ConversionError(f"{number} does not fit a DOUBLE")
    return str(number)


_ISO_TIMESPEC = {0: "seconds", 3: "milliseconds", 6: "microseconds"}


def _to_datetime(value: Any, sql_type: SqlType, fmt: str | None) -> str:
    moment = _datetime_from(value, fmt)
    precision = sql_type.length
    if moment.microsecond % (10 ** (6 - precision)):
        raise ConversionError(f"timestamp has more than {precision} fractional digits")
    # years are 1000-9999 (checked), so isoformat() writes what strftime("%Y-%m-%d
    # %H:%M:%S") plus the truncated fraction would, much faster
    timespec = _ISO_TIMESPEC.get(precision)
    if timespec is not None:
        return moment.isoformat(sep=" ", timespec=timespec)
    return moment.isoformat(sep=" ", timespec="microseconds")[: 20 + precision]


def _to_date(value: Any, sql_type: SqlType, fmt: str | None) -> str:
    if fmt in ("epoch_seconds", "epoch_millis"):
        moment = _datetime_from(value, fmt)
        if moment.time() != dt.time():
            raise ConversionError("timestamp is not at midnight; use a DATETIME column")
        return moment.date().isoformat()
    if not isinstance(value, str):
        raise ConversionError(f"expected a date string, got {_kind_name(value)}")
    try:
        day = dt.date.fromisoformat(value)
    except ValueError as exc:
        raise ConversionError(f"not an ISO-8601 date: {value[:40]!r}") from exc
    if not 1000 <= day.year <= 9999:
        raise ConversionError(f"date {day} is outside years 1000-9999")
    return day.isoformat()


def _to_json(value: Any, sql_type: SqlType, fmt: str | None) -> str:
    return json_text(value)


def _to_binary(value: Any, sql_type: SqlType, fmt: str | None) -> bytes:
    if not isinstance(value, bytes):
        raise ConversionError(f"expected binary, got {_kind_name(value)}")
    if len(value) > sql_type.length:
        raise ConversionError(f"{len(value)} bytes exceed {sql_type.ddl}")
    return value


_CONVERTERS: dict[Kind, Callable[[Any, SqlType, str | None], str | bytes]] = {
    Kind.VARCHAR: _to_varchar,
    Kind.TEXT: _to_text,
    Kind.INTEGER: _to_integer,
    Kind.BOOLEAN: _to_boolean,
    Kind.DECIMAL: _to_decimal,
    Kind.DOUBLE: _to_double,
    Kind.DATETIME: _to_datetime,
    Kind.DATE: _to_date,
    Kind.JSON: _to_json,
    Kind.BINARY: _to_binary,
}


def convert(value: Any, sql_type: SqlType, fmt: str | None = None) -> str | bytes | None:
    """Convert one deserialized value to the text (or bytes) the CSV carries for it."""
    if value is None:
        return None
    return _CONVERTERS[sql_type.kind](value, sql_type, fmt)


def converter(sql_type: SqlType, fmt: str | None = None) -> Callable[[Any], str | bytes]:
    """:func:`convert` for one column, resolved once (for a non-None value): the
    per-record path then skips the dispatch on the type."""
    convert_kind = _CONVERTERS[sql_type.kind]
    return lambda value: convert_kind(value, sql_type, fmt)
