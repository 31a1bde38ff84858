"""The moto launcher's scan cache (``cache_sorted_scans``) changes how fast moto pages a Scan,
never what the pages hold: the same scripted scan, with items put and deleted between pages,
parallel segments and a hash-only table, gives the same pages with and without it."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.dynamodb.models.table import Table

from scripts.local.dataplane.moto_server import cache_sorted_scans


def _scripted_scans(dynamodb: Any, table: str, *, range_key: bool) -> list[list[Any]]:
    keys = [{"AttributeName": "pk", "KeyType": "HASH"}]
    attributes = [{"AttributeName": "pk", "AttributeType": "S"}]
    if range_key:
        keys.append({"AttributeName": "sk", "KeyType": "RANGE"})
        attributes.append({"AttributeName": "sk", "AttributeType": "N"})
    dynamodb.create_table(
        TableName=table,
        KeySchema=keys,
        AttributeDefinitions=attributes,
        BillingMode="PAY_PER_REQUEST",
    )

    def key(number: int) -> dict[str, Any]:
        item: dict[str, Any] = {"pk": {"S": f"p{number % 37:02d}"}}
        if range_key:
            item["sk"] = {"N": str(number)}
        else:
            item["pk"] = {"S": f"p{number:04d}"}
        return item

    for number in range(0, 1200, 2):
        dynamodb.put_item(TableName=table, Item={**key(number), "v": {"S": "x" * (number % 50)}})
    pages: list[list[Any]] = []
    for segments in (None, 3):
        for segment in range(segments or 1):
            request: dict[str, Any] = {"TableName": table, "Limit": 41}
            if segments:
                request.update(Segment=segment, TotalSegments=segments)
            changes = iter(range(1, 1200, 2))
            while True:
                page = dynamodb.scan(**request)
                pages.append([page["Items"], page.get("LastEvaluatedKey")])
                # the table changes between pages: a new item, a deleted one, an updated one
                number = next(changes)
                dynamodb.put_item(TableName=table, Item={**key(number), "v": {"S": "new"}})
                dynamodb.delete_item(TableName=table, Key=key(number - 1))
                dynamodb.update_item(
                    TableName=table,
                    Key=key((number + 400) % 1200 // 2 * 2),
                    UpdateExpression="SET u = :u",
                    ExpressionAttributeValues={":u": {"N": str(number)}},
                )
                if "LastEvaluatedKey" not in page:
                    break
                request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return pages


@pytest.mark.parametrize("range_key", [True, False], ids=["hash+range", "hash only"])
def test_cached_scans_page_exactly_like_moto(monkeypatch: pytest.MonkeyPatch, range_key: bool):
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        expected = _scripted_scans(dynamodb, "plain", range_key=range_key)
        for name in ("put_item", "delete_item", "all_items", "scan"):
            monkeypatch.setattr(Table, name, getattr(Table, name))  # restored after the test
        cache_sorted_scans()
        assert _scripted_scans(dynamodb, "cached", range_key=range_key) == expected
    assert sum(len(items) for items, _ in expected) > 1000  # the script did page a lot
