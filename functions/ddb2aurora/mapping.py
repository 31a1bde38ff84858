"""The table mapping: which DynamoDB attributes land in which typed MySQL columns.

A mapping is validated twice, with the same rules: against ``mapping.schema.json`` plus
the cross-field checks below, here at function start, and by the Terraform variable
validation at plan time. Errors name the offending field, e.g. ``columns[2].type``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Any, Literal

import fastjsonschema

from ddb2aurora.codec import CodecError, deserialize_document
from ddb2aurora.csv_dialect import CsvColumn
from ddb2aurora.sql_types import (
    MAX_PRIMARY_KEY_BYTES,
    ConversionError,
    Kind,
    SqlType,
    convert,
    converter,
    parse_sql_type,
)

WriteMode = Literal["upsert", "append"]
DeleteMode = Literal["soft", "hard"]
Row = list[str | bytes | None]
METADATA_CSV_COLUMNS = (
    CsvColumn("_op"),
    CsvColumn("_seq"),
    CsvColumn("_ts"),
    CsvColumn("_event_id"),
)
_MISSING = object()


class MappingError(ValueError):
    """An invalid mapping document; the message names the field."""


class RecordRejected(ValueError):
    """An item that this mapping cannot load; the message is the reason."""


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    sql_type: SqlType
    path: tuple[str | int, ...]
    nullable: bool = True
    format: str | None = None


@dataclass(frozen=True)
class TableMapping:
    target_table: str
    keys: tuple[str, ...]
    columns: tuple[Column, ...]
    source_table: str | None = None
    write_mode: WriteMode = "upsert"
    delete_mode: DeleteMode = "soft"
    ignore_ttl_deletes: bool = False
    json_attributes: tuple[str, ...] = ()
    record_schema: Mapping[str, Any] = field(default_factory=dict)
    _validate_record: Callable[[Any], Any] = field(repr=False, compare=False, default=lambda d: d)
    # per column, resolved once: (column, value getter, converter); see row()
    _plan: tuple[tuple[Column, Callable[[Any], Any], Callable[[Any], str | bytes]], ...] = field(
        init=False, repr=False, compare=False, default=()
    )

    def __post_init__(self) -> None:
        plan = tuple(
            (column, _getter(column.path), converter(column.sql_type, column.format))
            for column in self.columns
        )
        object.__setattr__(self, "_plan", plan)

    @property
    def key_columns(self) -> tuple[Column, ...]:
        by_name = {c.name: c for c in self.columns}
        return tuple(by_name[k] for k in self.keys)

    @property
    def tombstone_table(self) -> str:
        return f"{self.target_table}__tombstones"

    def csv_columns(self) -> tuple[CsvColumn, ...]:
        """The columns of a CSV object, in file order: mapped columns, then metadata."""
        mapped = tuple(CsvColumn(c.name, c.sql_type.binary) for c in self.columns)
        return mapped + METADATA_CSV_COLUMNS

    def document(self, typed_item: Mapping[str, Any]) -> dict[str, Any]:
        """The item as plain JSON-like data with ``json_attributes`` parsed."""
        try:
            document = deserialize_document(typed_item)
        except CodecError as exc:
            raise RecordRejected(f"invalid DynamoDB JSON: {exc}") from exc
        for name in self.json_attributes:
            raw = document.get(name)
            if isinstance(raw, str):
                try:
                    document[name] = _decode_json_attribute(raw)
                except ValueError as exc:
                    raise RecordRejected(f"attribute {name!r} is not valid JSON: {exc}") from exc
        return document

    def row(self, typed_item: Mapping[str, Any]) -> Row:
        """Validate an item and convert it to the mapped column values, in column order."""
        document = self.document(typed_item)
        try:
            self._validate_record(document)
        except fastjsonschema.JsonSchemaValueException as exc:
            raise RecordRejected(f"record_schema: {_name_field(exc.message, 'item')}") from exc
        values: Row = []
        for column, get, convert_value in self._plan:
            value = get(document)
            if value is _MISSING or value is None:
                if not column.nullable:
                    raise RecordRejected(
                        f"column {column.name}: path {_path_text(column.path)} is missing"
                    )
                values.append(None)
                continue
            try:
                values.append(convert_value(value))
            except ConversionError as exc:
                raise RecordRejected(f"column {column.name}: {exc}") from exc
        return values

    def key_row(self, typed_keys: Mapping[str, Any]) -> Row:
        """Column values for a delete: the key columns from the item's keys, others NULL."""
        try:
            keys = deserialize_document(typed_keys)
        except CodecError as exc:
            raise RecordRejected(f"invalid DynamoDB JSON in keys: {exc}") from exc
        key_names = set(self.keys)
        values: Row = []
        for column in self.columns:
            if column.name not in key_names:
                values.append(None)
                continue
            value = keys.get(str(column.path[0]), _MISSING)
            if value is _MISSING or value is None:
                raise RecordRejected(
                    f"key column {column.name}: attribute {column.path[0]!r} missing"
                )
            try:
                values.append(convert(value, column.sql_type, column.format))
            except ConversionError as exc:
                raise RecordRejected(f"key column {column.name}: {exc}") from exc
        return values


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


_JSON_ATTRIBUTE_DECODER = json.JSONDecoder(parse_float=Decimal, parse_constant=_reject_constant)


def _decode_json_attribute(raw: str) -> Any:
    """``json.loads(raw, parse_float=Decimal, parse_constant=…)`` with one decoder built
    once instead of one per call."""
    if raw.startswith("\ufeff"):  # json.loads refuses a BOM with its own message
        return json.loads(raw, parse_float=Decimal, parse_constant=_reject_constant)
    return _JSON_ATTRIBUTE_DECODER.decode(raw)


def _getter(path: Sequence[str | int]) -> Callable[[Any], Any]:
    """:func:`_resolve` for one path; a path of names only takes a faster loop."""
    if not all(isinstance(part, str) for part in path):
        return lambda document: _resolve(document, path)
    names = tuple(str(part) for part in path)

    def get(document: Any) -> Any:
        current = document
        for name in names:
            if not isinstance(current, dict):
                return _MISSING
            current = current.get(name, _MISSING)
            if current is _MISSING:
                return _MISSING
        return current

    return get


def _resolve(document: Any, path: Sequence[str | int]) -> Any:
    current = document
    for part in path:
        if isinstance(part, str) and isinstance(current, dict):
            current = current.get(part, _MISSING)
        elif isinstance(part, int) and isinstance(current, list) and part < len(current):
            current = current[part]
        else:
            return _MISSING
        if current is _MISSING:
            return _MISSING
    return current


def _path_text(path: Sequence[str | int]) -> str:
    return ".".join(str(p) for p in path)


def _name_field(message: str, root: str) -> str:
    return root + message[4:] if message.startswith("data") else message


@cache
def mapping_schema() -> dict[str, Any]:
    text = resources.files("ddb2aurora").joinpath("mapping.schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@cache
def _mapping_validator() -> Callable[[Any], Any]:
    return fastjsonschema.compile(mapping_schema())


def load_mapping(text: str | bytes) -> TableMapping:
    """Parse and validate a mapping document; raise MappingError naming the bad field."""
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise MappingError(f"mapping is not valid JSON: {exc}") from exc
    return mapping_from_document(document)


def mapping_from_document(document: Any) -> TableMapping:
    try:
        _mapping_validator()(document)
    except fastjsonschema.JsonSchemaValueException as exc:
        raise MappingError(_name_field(exc.message, "mapping")) from exc

    columns: list[Column] = []
    seen: set[str] = set()
    for index, spec in enumerate(document["columns"]):
        where = f"mapping.columns[{index}]"
        name = spec["name"]
        if name.lower() in seen:
            raise MappingError(f"{where}.name: duplicate column {name!r}")
        seen.add(name.lower())
        try:
            sql_type = parse_sql_type(spec["type"])
        except ValueError as exc:
            raise MappingError(f"{where}.type: {exc}") from exc
        fmt = spec.get("format")
        if fmt is not None and sql_type.kind not in (Kind.DATETIME, Kind.DATE):
            raise MappingError(f"{where}.format: only DATETIME and DATE columns take a format")
        columns.append(Column(name, sql_type, tuple(spec["path"]), spec.get("nullable", True), fmt))

    by_name = {c.name: c for c in columns}
    json_attributes = tuple(document.get("json_attributes", ()))
    key_bytes = 0
    for index, key in enumerate(document["keys"]):
        where = f"mapping.keys[{index}]"
        column = by_name.get(key)
        if column is None:
            raise MappingError(f"{where}: {key!r} is not one of the columns")
        if len(column.path) != 1 or not isinstance(column.path[0], str):
            raise MappingError(f"{where}: key column {key!r} must map a top-level attribute")
        if column.path[0] in json_attributes:
            raise MappingError(f"{where}: key column {key!r} cannot come from a JSON attribute")
        size = column.sql_type.key_bytes
        if size is None:
            raise MappingError(f"{where}: a {column.sql_type.ddl} column cannot be a key")
        key_bytes += size
        by_name[key] = Column(column.name, column.sql_type, column.path, False, column.format)
    if key_bytes > MAX_PRIMARY_KEY_BYTES:
        raise MappingError(
            f"mapping.keys: the key columns take {key_bytes} bytes, over InnoDB's "
            f"{MAX_PRIMARY_KEY_BYTES}; shorten the VARCHAR lengths"
        )
    columns = [by_name[c.name] for c in columns]

    write_mode = document.get("write_mode", "upsert")
    delete_mode = document.get("delete_mode", "soft")
    if write_mode == "append" and delete_mode != "soft":
        raise MappingError("mapping.delete_mode: append mode records deletes as rows; use 'soft'")
    record_schema = document.get("record_schema", {})
    try:
        validate_record = fastjsonschema.compile(record_schema)
    except fastjsonschema.JsonSchemaDefinitionException as exc:
        raise MappingError(f"mapping.record_schema: {exc}") from exc

    return TableMapping(
        target_table=document["target_table"],
        keys=tuple(document["keys"]),
        columns=tuple(columns),
        source_table=document.get("source_table"),
        write_mode=write_mode,
        delete_mode=delete_mode,
        ignore_ttl_deletes=document.get("ignore_ttl_deletes", False),
        json_attributes=json_attributes,
        record_schema=record_schema,
        _validate_record=validate_record,
    )
