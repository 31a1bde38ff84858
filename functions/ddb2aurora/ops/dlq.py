"""What dead-letter messages say, parsed into typed values (pure; no AWS calls).

The stream queue holds two kinds: the event source mapping's on-failure records
(``DDBStreamBatchInfo``: shard, first and last SequenceNumber, stream ARN) and
stream_processor's own ``record_too_large`` reports (source table, keys, seq). The loader
queue holds Lambda's asynchronous on-failure records, whose ``requestPayload`` is the
S3 event that failed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ddb2aurora.aurora_loader import S3Object, objects_from_event


class MessageError(ValueError):
    """A message that is none of the kinds this queue should hold."""


@dataclass(frozen=True, slots=True)
class StreamBatchFailure:
    stream_arn: str
    shard_id: str
    start_sequence_number: str
    end_sequence_number: str
    batch_size: int
    condition: str
    first_arrival: str | None = None

    def contains(self, sequence_number: str) -> bool:
        number = int(sequence_number)
        return int(self.start_sequence_number) <= number <= int(self.end_sequence_number)


@dataclass(frozen=True, slots=True)
class RecordTooLarge:
    source: str
    keys: dict[str, Any]
    seq: str
    size_bytes: int


@dataclass(frozen=True, slots=True)
class LoaderFailure:
    objects: tuple[S3Object, ...]
    condition: str
    error: str


def _body(text: str) -> dict[str, Any]:
    try:
        body = json.loads(text)
    except ValueError as error:
        raise MessageError(f"not JSON: {error}") from None
    if not isinstance(body, dict):
        raise MessageError("not a JSON object")
    return body


def parse_stream_message(text: str) -> StreamBatchFailure | RecordTooLarge:
    body = _body(text)
    if body.get("reason") == "record_too_large":
        try:
            return RecordTooLarge(
                source=str(body["source"]),
                keys=dict(body["keys"]),
                seq=str(body["seq"]),
                size_bytes=int(body.get("size_bytes", 0)),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise MessageError(f"record_too_large message lacks {error}") from None
    info = body.get("DDBStreamBatchInfo")
    if not isinstance(info, dict):
        raise MessageError("neither DDBStreamBatchInfo nor a record_too_large report")
    try:
        failure = StreamBatchFailure(
            stream_arn=str(info["streamArn"]),
            shard_id=str(info["shardId"]),
            start_sequence_number=str(info["startSequenceNumber"]),
            end_sequence_number=str(info["endSequenceNumber"]),
            batch_size=int(info.get("batchSize", 0)),
            condition=str((body.get("requestContext") or {}).get("condition", "")),
            first_arrival=info.get("approximateArrivalOfFirstRecord"),
        )
    except KeyError as error:
        raise MessageError(f"DDBStreamBatchInfo lacks {error}") from None
    if not (failure.start_sequence_number.isdigit() and failure.end_sequence_number.isdigit()):
        raise MessageError("sequence numbers in DDBStreamBatchInfo are not decimal")
    return failure


def parse_loader_message(text: str) -> LoaderFailure:
    body = _body(text)
    payload = body.get("requestPayload")
    if not isinstance(payload, dict):
        raise MessageError("no requestPayload (not a Lambda asynchronous on-failure record)")
    try:
        objects = tuple(objects_from_event(payload))
    except (KeyError, TypeError) as error:
        raise MessageError(f"requestPayload is not an S3 event: lacks {error}") from None
    if not objects:
        raise MessageError("requestPayload holds no ObjectCreated record")
    response = body.get("responsePayload") or {}
    detail = ""
    if isinstance(response, dict):
        detail = f"{response.get('errorType', '')}: {response.get('errorMessage', '')}".strip(": ")
    return LoaderFailure(
        objects=objects,
        condition=str((body.get("requestContext") or {}).get("condition", "")),
        error=detail,
    )
