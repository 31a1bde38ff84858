"""Amazon DynamoDB GetItem: the current item for KEYS_ONLY (and OLD_IMAGE) streams."""

from __future__ import annotations

from typing import Any

from ddb2aurora.adapters import aws_errors, client


class ItemFetchError(Exception):
    """GetItem failed."""


def get_item(table_name: str, keys: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]] | None:
    """The item in DynamoDB's typed JSON read with a strongly consistent read, or None when
    the item no longer exists."""
    try:
        response = client("dynamodb").get_item(TableName=table_name, Key=keys, ConsistentRead=True)
    except aws_errors() as exc:
        raise ItemFetchError(f"GetItem on {table_name} failed: {exc}") from exc
    item: dict[str, dict[str, Any]] | None = response.get("Item")
    return item
