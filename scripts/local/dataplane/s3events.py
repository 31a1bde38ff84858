"""S3 bucket notifications to Lambda (ObjectCreated), delivered as S3 does.

For each bucket with LambdaFunctionConfigurations, new objects are detected two ways:
objects this data plane writes itself (Firehose deliveries) are announced directly, and a
periodic listing catches objects written by anyone else (a test's put_object, a replay);
a key whose ETag changes is a new object, as an overwrite is in S3. Objects present when
a bucket is first watched are taken as existing (S3 does not notify about objects made
before the configuration). Each event is one record, invoked asynchronously, with the
key URL-encoded the way S3 encodes it (quote_plus; "/" kept).
"""

from __future__ import annotations

import itertools
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_plus

from .streams import iso_now

log = logging.getLogger("dataplane.s3")

_sequencer = itertools.count(int(uuid.uuid4().int % 10**9) * 10**6)


@dataclass(frozen=True)
class NotificationSpec:
    bucket: str
    configuration_id: str
    function_arn: str
    events: tuple[str, ...]
    prefix: str
    suffix: str

    @classmethod
    def from_api(cls, bucket: str, config: dict[str, Any]) -> NotificationSpec:
        rules = {
            rule["Name"].lower(): rule["Value"]
            for rule in ((config.get("Filter") or {}).get("Key") or {}).get("FilterRules", [])
        }
        return cls(
            bucket=bucket,
            configuration_id=config.get("Id") or str(uuid.uuid4()),
            function_arn=config["LambdaFunctionArn"],
            events=tuple(config.get("Events", [])),
            prefix=rules.get("prefix", ""),
            suffix=rules.get("suffix", ""),
        )

    def matches(self, event_name: str, key: str) -> bool:
        wanted = f"s3:{event_name}"
        event_ok = any(
            pattern == wanted or (pattern.endswith(":*") and wanted.startswith(pattern[:-1]))
            for pattern in self.events
        )
        return event_ok and key.startswith(self.prefix) and key.endswith(self.suffix)


def s3_event(
    spec: NotificationSpec, region: str, *, key: str, size: int, etag: str, event_name: str
) -> dict[str, Any]:
    return {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": region,
                "eventTime": iso_now(),
                "eventName": event_name,
                "userIdentity": {"principalId": "AWS:LOCALDATAPLANE"},
                "requestParameters": {"sourceIPAddress": "127.0.0.1"},
                "responseElements": {
                    "x-amz-request-id": uuid.uuid4().hex[:16].upper(),
                    "x-amz-id-2": uuid.uuid4().hex,
                },
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "configurationId": spec.configuration_id,
                    "bucket": {
                        "name": spec.bucket,
                        "ownerIdentity": {"principalId": "LOCALOWNER"},
                        "arn": f"arn:aws:s3:::{spec.bucket}",
                    },
                    "object": {
                        "key": quote_plus(key, safe="/"),
                        "size": size,
                        "eTag": etag,
                        "sequencer": f"{next(_sequencer):016X}",
                    },
                },
            }
        ]
    }


class S3Notifier:
    def __init__(
        self,
        *,
        s3_client: Any,
        region: str,
        seen: dict[str, dict[str, str]],
        emit: Callable[[NotificationSpec, dict[str, Any], tuple[str, str, str]], None],
    ) -> None:
        self.s3 = s3_client
        self.region = region
        self.seen = seen  # bucket -> key -> etag (shared, saved)
        self.emit = emit
        self.specs: list[NotificationSpec] = []
        self.last_matched = 0  # how many notifications the last new object went to

    def load(self, specs: list[NotificationSpec]) -> None:
        self.specs = specs
        for bucket in {spec.bucket for spec in specs}:
            if bucket not in self.seen:
                self.seen[bucket] = {}
                for key, _size, etag in self._list(bucket):
                    self.seen[bucket][key] = etag

    def object_created(self, bucket: str, key: str, size: int, etag: str) -> bool:
        """Announce a new object (idempotent per key and ETag); True when it was new."""
        known = self.seen.setdefault(bucket, {})
        if known.get(key) == etag:
            return False
        known[key] = etag
        self.last_matched = 0
        for spec in self.specs:
            if spec.bucket == bucket and spec.matches("ObjectCreated:Put", key):
                self.last_matched += 1
                event = s3_event(
                    spec, self.region, key=key, size=size, etag=etag, event_name="ObjectCreated:Put"
                )
                self.emit(spec, event, (bucket, key, etag))
        return True

    def scan(self) -> bool:
        found = False
        for bucket in {spec.bucket for spec in self.specs}:
            for key, size, etag in self._list(bucket):
                found |= self.object_created(bucket, key, size, etag)
        return found

    def _list(self, bucket: str) -> list[tuple[str, int, str]]:
        objects = []
        paginator = self.s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=bucket):
            for item in page.get("Contents", []):
                objects.append((item["Key"], int(item["Size"]), item["ETag"].strip('"')))
        return objects
