from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from ddb2aurora.codec import CodecError, deserialize, deserialize_document, serialize
from hypothesis import given
from hypothesis import strategies as st

EVERY_TYPE = {
    "s": {"S": 'héllo, "world"\n'},
    "n_int": {"N": "12345678901234567890123456789012345678"},
    "n_dec": {"N": "-0.000000000000000000000000000000000001"},
    "n_trailing": {"N": "1.50"},
    "b": {"B": "AAEC/w=="},
    "bool": {"BOOL": False},
    "null": {"NULL": True},
    "l": {"L": [{"S": "a"}, {"N": "1"}, {"L": []}]},
    "m": {"M": {"inner": {"M": {"x": {"NULL": True}}}}},
    "ss": {"SS": ["b", "a"]},
    "ns": {"NS": ["2", "1.5"]},
    "bs": {"BS": ["AA==", "AQ=="]},
}


def test_every_type_deserializes_exactly() -> None:
    item = {name: deserialize(value) for name, value in EVERY_TYPE.items()}
    assert item["s"] == 'héllo, "world"\n'
    assert item["n_int"] == 12345678901234567890123456789012345678
    assert item["n_dec"] == Decimal("-1E-36")
    assert str(item["n_trailing"]) == "1.50"
    assert item["b"] == b"\x00\x01\x02\xff"
    assert item["bool"] is False and item["null"] is None
    assert item["l"] == ["a", 1, []]
    assert item["m"] == {"inner": {"x": None}}
    assert item["ss"] == {"a", "b"} and item["ns"] == {Decimal("1.5"), 2}
    assert item["bs"] == {b"\x00", b"\x01"}


def test_round_trip_keeps_every_digit() -> None:
    for name, typed in EVERY_TYPE.items():
        again = serialize(deserialize(typed))
        if name in ("ss", "ns", "bs"):
            (tag,) = typed
            assert sorted(again[tag]) == sorted(typed[tag])
        elif name == "n_dec":
            assert Decimal(again["N"]) == Decimal(typed["N"])
        else:
            assert again == typed


def test_document_turns_sets_into_sorted_lists() -> None:
    document = deserialize_document(
        {"ss": {"SS": ["b", "a"]}, "m": {"M": {"ns": {"NS": ["3", "1"]}}}}
    )
    assert document == {"ss": ["a", "b"], "m": {"ns": [1, 3]}}


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ({"N": "abc"}, "not a number"),
        ({"N": "1" * 39}, "38 significant digits"),
        ({"N": "NaN"}, "not finite"),
        ({"B": "###"}, "base64"),
        ({"X": "1"}, "unknown DynamoDB type"),
        ({"S": "a", "N": "1"}, "exactly one type key"),
        ({"NULL": False}, "NULL must be true"),
        ({"SS": ["a", 1]}, "SS members"),
    ],
)
def test_invalid_typed_values_are_named(typed: dict[str, Any], message: str) -> None:
    with pytest.raises(CodecError, match=message):
        deserialize(typed, "item.attr")


plain = st.recursive(
    st.none()
    | st.booleans()
    | st.text()
    | st.integers(min_value=-(10**38) + 1, max_value=10**38 - 1)
    | st.binary(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4)
    ),
    max_leaves=12,
)


@given(plain)
def test_serialize_then_deserialize_is_identity(value: Any) -> None:
    assert deserialize(serialize(value)) == value
