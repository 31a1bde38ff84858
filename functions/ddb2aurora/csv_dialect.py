"""The CSV dialect between the transform and the loader, and the LOAD DATA clause that
reads it back. Both live here so they cannot drift.

Rules (MySQL/MariaDB ``LOAD DATA`` semantics with ``ESCAPED BY '\\\\'``):

* fields are separated by ``,`` and every non-NULL field is enclosed in ``"``;
* SQL NULL is the unquoted token ``\\N``; the empty string is ``""``, so they stay distinct;
* inside a field, backslash, quote, newline, carriage return and NUL are written as
  ``\\\\``, ``\\"``, ``\\n``, ``\\r``, ``\\0``; every other character (commas, tabs, any Unicode)
  is written as itself. Because newlines are escaped, one line is exactly one row;
* binary columns carry lowercase hex and the LOAD DATA clause un-hexes them;
* the file is UTF-8 and is read with ``CHARACTER SET utf8mb4``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from ddb2aurora.sql_types import quote_identifier

NULL_TOKEN = "\\N"  # noqa: S105 (not a password: the NULL marker)
_ESCAPES = (("\\", "\\\\"), ('"', '\\"'), ("\n", "\\n"), ("\r", "\\r"), ("\0", "\\0"))
_NEEDS_ESCAPE = frozenset(char for char, _ in _ESCAPES)
_UNESCAPES = {"\\": "\\", '"': '"', "n": "\n", "r": "\r", "0": "\0", "t": "\t", "Z": "\x1a"}

LoadSource = Literal["local", "s3"]


@dataclass(frozen=True, slots=True)
class CsvColumn:
    """A column as the file carries it: its name and whether it is hex-encoded binary."""

    name: str
    binary: bool = False


def encode_field(value: str | bytes | None) -> str:
    if value is None:
        return NULL_TOKEN
    if isinstance(value, bytes):
        return '"' + value.hex() + '"'
    if not _NEEDS_ESCAPE.isdisjoint(value):
        for char, escaped in _ESCAPES:
            value = value.replace(char, escaped)
    return '"' + value + '"'


def encode_row(values: Iterable[str | bytes | None]) -> str:
    """One row, newline-terminated."""
    return ",".join([encode_field(v) for v in values]) + "\n"


def decode_row(line: str) -> list[str | None]:
    """Parse one row written by :func:`encode_row` (binary fields stay hex text).

    Used by tools and tests that read loader input without a database.
    """
    if line.endswith("\n"):
        line = line[:-1]
    fields: list[str | None] = []
    i, n = 0, len(line)
    while True:
        if line.startswith(NULL_TOKEN, i) and (i + 2 == n or line[i + 2] == ","):
            fields.append(None)
            i += 2
        elif i < n and line[i] == '"':
            i += 1
            chunk: list[str] = []
            while True:
                if i >= n:
                    raise ValueError("unterminated quoted field")
                char = line[i]
                if char == "\\":
                    if i + 1 >= n:
                        raise ValueError("dangling escape")
                    chunk.append(_UNESCAPES.get(line[i + 1], line[i + 1]))
                    i += 2
                elif char == '"':
                    i += 1
                    break
                else:
                    chunk.append(char)
                    i += 1
            fields.append("".join(chunk))
        else:
            raise ValueError(f"unexpected character at offset {i}")
        if i == n:
            return fields
        if line[i] != ",":
            raise ValueError(f"expected ',' at offset {i}")
        i += 1


def load_data_statement(*, source: LoadSource, table: str, columns: Sequence[CsvColumn]) -> str:
    """The LOAD DATA statement for a file in this dialect.

    The file name (``local``) or S3 URI (``s3``) is the statement's single ``%s``
    parameter, filled in by the driver's escaping, never by string formatting.
    ``LOAD DATA FROM S3`` is Aurora MySQL's server-side load; MariaDB rejects it, so
    the local stack uses ``local``.
    """
    origin = "LOCAL INFILE %s" if source == "local" else "FROM S3 %s"
    targets = []
    assignments = []
    for column in columns:
        quoted = quote_identifier(column.name)
        if column.binary:
            variable = "@hex_" + column.name
            targets.append(variable)
            assignments.append(f"{quoted} = UNHEX({variable})")
        else:
            targets.append(quoted)
    statement = (
        f"LOAD DATA {origin} INTO TABLE {quote_identifier(table)} "
        "CHARACTER SET utf8mb4 "
        "FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '\"' ESCAPED BY '\\\\' "
        "LINES TERMINATED BY '\\n' "
        f"({', '.join(targets)})"
    )
    if assignments:
        statement += " SET " + ", ".join(assignments)
    return statement
