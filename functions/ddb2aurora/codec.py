"""DynamoDB's typed JSON (``{"S": "x"}``, ``{"N": "1.5"}``, …) to Python values and back.

Numbers stay exact: an ``N`` becomes an ``int`` when written without a fraction or
exponent-reduced digits (``"42"``, ``"1E+2"``) and a ``Decimal`` otherwise, which is the
same rule ``json.loads(..., parse_float=Decimal)`` follows, so an item attribute and a
number inside a JSON-string attribute look alike to schemas and mappings.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

MAX_NUMBER_DIGITS = 38


class CodecError(ValueError):
    """A typed value that is not valid DynamoDB JSON; the message says where."""


def _number(text: Any, where: str) -> int | Decimal:
    if not isinstance(text, str):
        raise CodecError(f"{where}: N must be a string, got {type(text).__name__}")
    try:
        value = Decimal(text)
    except InvalidOperation as exc:
        raise CodecError(f"{where}: N {text!r} is not a number") from exc
    if not value.is_finite():
        raise CodecError(f"{where}: N {text!r} is not finite")
    significant = "".join(map(str, value.as_tuple().digits)).strip("0")
    if len(significant) > MAX_NUMBER_DIGITS:
        raise CodecError(
            f"{where}: N {text!r} has more than {MAX_NUMBER_DIGITS} significant digits"
        )
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent >= 0:
        return int(value)
    return value


def _binary(text: Any, where: str) -> bytes:
    if isinstance(text, bytes | bytearray):
        return bytes(text)
    if not isinstance(text, str):
        raise CodecError(f"{where}: B must be base64 text")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise CodecError(f"{where}: B is not valid base64") from exc


def deserialize(typed: Any, where: str = "value") -> Any:
    """One typed attribute value to Python: str, int/Decimal, bytes, bool, None, list,
    dict, and sets as ``set`` (SS, NS, BS)."""
    # type() first: the ABC check of isinstance(…, Mapping) is slow, and items are dicts
    if (type(typed) is not dict and not isinstance(typed, Mapping)) or len(typed) != 1:
        raise CodecError(f"{where}: expected an object with exactly one type key")
    ((tag, raw),) = typed.items()
    match tag:
        case "S":
            if not isinstance(raw, str):
                raise CodecError(f"{where}: S must be a string")
            return raw
        case "N":
            return _number(raw, where)
        case "B":
            return _binary(raw, where)
        case "BOOL":
            if not isinstance(raw, bool):
                raise CodecError(f"{where}: BOOL must be true or false")
            return raw
        case "NULL":
            if raw is not True:
                raise CodecError(f"{where}: NULL must be true")
            return None
        case "L":
            if not isinstance(raw, list):
                raise CodecError(f"{where}: L must be a list")
            return [deserialize(v, f"{where}[{i}]") for i, v in enumerate(raw)]
        case "M":
            return deserialize_item(raw, where)
        case "SS" | "NS" | "BS":
            if not isinstance(raw, list):
                raise CodecError(f"{where}: {tag} must be a list")
            if tag == "SS":
                if not all(isinstance(v, str) for v in raw):
                    raise CodecError(f"{where}: SS members must be strings")
                return set(raw)
            if tag == "NS":
                return {_number(v, f"{where}[{i}]") for i, v in enumerate(raw)}
            return {_binary(v, f"{where}[{i}]") for i, v in enumerate(raw)}
        case _:
            raise CodecError(f"{where}: unknown DynamoDB type {tag!r}")


def deserialize_item(typed: Any, where: str = "item") -> dict[str, Any]:
    """A typed item (attribute name → typed value) to a plain dict."""
    if type(typed) is not dict and not isinstance(typed, Mapping):
        raise CodecError(f"{where}: expected an object")
    return {name: deserialize(value, f"{where}.{name}") for name, value in typed.items()}


def _number_text(value: int | Decimal) -> str:
    return str(value) if isinstance(value, int) else format(value, "f")


def serialize(value: Any) -> dict[str, Any]:
    """A Python value to typed JSON (the inverse of :func:`deserialize`)."""
    if value is None:
        return {"NULL": True}
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, int | Decimal):
        return {"N": _number_text(value)}
    if isinstance(value, bytes | bytearray):
        return {"B": base64.b64encode(value).decode()}
    if isinstance(value, list | tuple):
        return {"L": [serialize(v) for v in value]}
    if isinstance(value, Mapping):
        return {"M": {str(k): serialize(v) for k, v in value.items()}}
    if isinstance(value, set | frozenset):
        members = sorted(value)
        if all(isinstance(v, str) for v in members):
            return {"SS": members}
        if all(isinstance(v, int | Decimal) and not isinstance(v, bool) for v in members):
            return {"NS": [_number_text(v) for v in members]}
        if all(isinstance(v, bytes) for v in members):
            return {"BS": [base64.b64encode(v).decode() for v in members]}
        raise CodecError("a set must hold only strings, only numbers or only bytes")
    raise CodecError(f"cannot serialize {type(value).__name__}")


def serialize_item(item: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: serialize(value) for name, value in item.items()}


def deserialize_document(typed: Any) -> dict[str, Any]:
    """A typed item as JSON-Schema friendly data: like :func:`deserialize_item`, with
    sets as sorted lists (JSON has no sets)."""
    item = deserialize_item(typed)
    return {name: _sets_to_lists(value) for name, value in item.items()}


def _sets_to_lists(value: Any) -> Any:
    if isinstance(value, set):
        return sorted(value)
    if isinstance(value, dict):
        return {k: _sets_to_lists(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_sets_to_lists(v) for v in value]
    return value
