"""A poison record in a stream batch, with the real zips on the shared local stack.

stream_processor never fails a batch by design, so a realistic poison record is one that
cannot be delivered however often it is tried: the data plane's Firehose rejects, on every
PutRecordBatch, the entries that carry the poison item's key (a "match" fault). Then:

- stream_processor delivers everything else and reports the poison record as its batch
  item failure; the event source mapping, as deployed by Terraform (ReportBatchItemFailures,
  BisectBatchOnFunctionError, MaximumRetryAttempts, on-failure queue), checkpoints before
  it and retries from it: AWS bisects a partial batch response at the returned sequence
  number (it halves only a failed invocation), so no halving happens here;
- after MaximumRetryAttempts the batch position starting at the poison record goes to the
  stream dead-letter queue; every other change lands, the poison change does not;
- a replay while the fault lasts fails and keeps the message; once the fault is cleared,
  `ddb2aurora replay stream-dlq` lands it, and `ddb2aurora verify` agrees: the poison item
  ends at its latest state, a newer change written before the replay is not undone by it
  (the _seq guard keeps order per item), and no other row is applied again.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from scripts.local.sample_data import ClickstreamGenerator, to_dynamodb
from tests.support.local_stack import Key, LocalStack

pytestmark = pytest.mark.localstack


@pytest.fixture(scope="module")
def stack(shared_local_stack: Any) -> LocalStack:
    return LocalStack.of(shared_local_stack)


def _drain_reasons(stack: LocalStack) -> set[str]:
    return set(stack.drain()["reasons"])


def _stream_stats(stack: LocalStack) -> dict[str, int]:
    return dict(stack.stats()["streams"])


def _stream_dlq_messages(stack: LocalStack) -> list[dict[str, Any]]:
    """The stream dead-letter queue's messages, left visible for the replay."""
    sqs = stack.client("sqs")
    url = stack.outputs["stream_dead_letter_queue_url"]
    bodies: dict[str, dict[str, Any]] = {}
    for _ in range(5):  # SQS may answer a receive with a subset
        response = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0)
        for message in response.get("Messages", []):
            bodies[message["MessageId"]] = json.loads(message["Body"])
    return list(bodies.values())


def _stream_sequences(stack: LocalStack, keys: set[Key]) -> dict[Key, list[int]]:
    """Every stream SequenceNumber of these items, in stream order."""
    streams = stack.client("dynamodbstreams")
    table = stack.client("dynamodb").describe_table(TableName=stack.table)
    stream_arn = table["Table"]["LatestStreamArn"]
    found: dict[Key, list[int]] = {key: [] for key in keys}
    for shard in streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"]:
        iterator = streams.get_shard_iterator(
            StreamArn=stream_arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while iterator:
            response = streams.get_records(ShardIterator=iterator, Limit=1000)
            if not response["Records"]:
                break
            for record in response["Records"]:
                stream_keys = record["dynamodb"]["Keys"]
                key = (stream_keys["page_id"]["S"], stream_keys["activity_dt"]["S"])
                if key in found:
                    found[key].append(int(record["dynamodb"]["SequenceNumber"]))
            iterator = response.get("NextShardIterator")
    return found


def _rows(stack: LocalStack, prefix: str) -> dict[Key, tuple[int, int, Any]]:
    """(hits, _seq, _loaded_at) per key of the rows under this prefix."""
    rows = stack.sql(
        "SELECT page_id, DATE_FORMAT(activity_dt, '%%Y-%%m-%%dT%%H:%%i:%%s.%%fZ'), hits, _seq,"
        " _loaded_at FROM web_analytics WHERE page_id LIKE %s AND _deleted_at IS NULL",
        (f"/{prefix}/%",),
    )
    return {
        (page, stamp[:23] + "Z"): (int(hits), int(seq), loaded)
        for page, stamp, hits, seq, loaded in rows
    }


def _key(item: dict[str, str]) -> Key:
    return (item["page_id"], item["activity_dt"])


def _hits(item: dict[str, str]) -> int:
    return int(json.loads(item["payload"])["Hits"])


def test_a_poison_record_goes_to_the_stream_dlq_the_rest_lands_and_replay_repairs_it(
    stack: LocalStack,
) -> None:
    outputs = stack.outputs
    dlq_url = outputs["stream_dead_letter_queue_url"]
    processor = outputs["stream_processor_function_name"]
    dynamodb = stack.client("dynamodb")

    # The mapping as Terraform deployed it is what the data plane emulates.
    (mapping,) = [
        m
        for m in stack.client("lambda").list_event_source_mappings()["EventSourceMappings"]
        if m["FunctionArn"].endswith(f":function:{processor}")
    ]
    dlq_arn = stack.client("sqs").get_queue_attributes(
        QueueUrl=dlq_url, AttributeNames=["QueueArn"]
    )["Attributes"]["QueueArn"]
    assert mapping["BisectBatchOnFunctionError"] is True
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["DestinationConfig"]["OnFailure"]["Destination"] == dlq_arn
    max_retries = int(mapping["MaximumRetryAttempts"])
    assert max_retries >= 0, "with infinite retries a poison record would block the shard"

    _drain_reasons(stack)  # reports, once, the loads earlier tests failed (if any)
    baseline = _drain_reasons(stack)  # what stays reported, e.g. messages others left queued
    assert _stream_dlq_messages(stack) == [], "the stream DLQ must start empty"

    run = uuid.uuid4().hex[:6]
    prefix = f"poison{run}"
    generator = ClickstreamGenerator(seed=77)
    plain = [{**i, "page_id": f"/{prefix}{i['page_id']}"} for i in generator.items(21)]
    before, poison_v1, after = plain[:10], plain[10], plain[11:]
    poison_v1["page_id"] = f"/{prefix}/the-poison-record"  # only its change carries this
    poison_v2 = generator.updated(poison_v1)
    assert _hits(poison_v2) > _hits(poison_v1)

    # The poison item's first version lands: nothing is wrong yet.
    dynamodb.put_item(TableName=stack.table, Item=to_dynamodb(poison_v1))
    assert _drain_reasons(stack) == baseline
    assert _rows(stack, prefix)[_key(poison_v1)][0] == _hits(poison_v1)

    # Firehose rejects, on every call, whatever carries the poison item's key.
    injected = stack.control(
        "/inject",
        {
            "kind": "firehose_put_failure",
            "mode": "match",
            "match": poison_v1["page_id"],
            "calls": -1,
        },
    )
    assert injected["injected"]["mode"] == "match"
    stats_before = _stream_stats(stack)
    writes = [*before, poison_v2, *after]
    dynamodb.batch_write_item(
        RequestItems={stack.table: [{"PutRequest": {"Item": to_dynamodb(i)}} for i in writes]}
    )
    new_reasons = _drain_reasons(stack) - baseline
    assert new_reasons == {f"1 messages in dead-letter queue {dlq_url}"}, (
        f"the drain must report the poison record's one stream DLQ message; new: {new_reasons}"
    )
    stats_after = _stream_stats(stack)

    sequences = _stream_sequences(stack, {_key(i) for i in plain})
    poison_seq = sequences[_key(poison_v2)][-1]
    assert len(sequences[_key(poison_v2)]) == 2  # v1 and v2

    # The mapping retried from the poison record MaximumRetryAttempts times, without halving,
    # then sent that position to the on-failure queue.
    assert stats_after["retries"] - stats_before["retries"] >= max_retries
    assert stats_after["bisections"] == stats_before["bisections"]
    (message,) = _stream_dlq_messages(stack)
    assert message["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert message["requestContext"]["functionArn"].endswith(f":function:{processor}")
    info = message["DDBStreamBatchInfo"]
    assert int(info["startSequenceNumber"]) == poison_seq
    in_range = {
        key
        for key, seqs in sequences.items()
        for seq in seqs
        if poison_seq <= seq <= int(info["endSequenceNumber"])
    }
    assert _key(poison_v2) in in_range
    assert not in_range & {_key(i) for i in before}, "records before the poison record were done"
    behind = [i for i in after if _key(i) in in_range]  # sent on every retry, so they landed
    assert behind, "the poison record's batch should hold records after it"
    assert stats_after["records_sent_to_on_failure"] - stats_before[
        "records_sent_to_on_failure"
    ] == int(info["batchSize"])

    # Everything around it landed; the poison item still holds its previous version.
    rows = _rows(stack, prefix)
    assert rows[_key(poison_v1)][:2] == (_hits(poison_v1), sequences[_key(poison_v1)][0])
    for item in [*before, *after]:
        assert rows[_key(item)][:2] == (_hits(item), sequences[_key(item)][-1]), item
    drift = stack.cli_json("verify", "--recheck-after", "0", expect=1)
    drifting = [d["key"]["page_id"] for d in drift["different"]]
    drifting += [key["page_id"] for key in drift["missing"]]
    assert [page for page in drifting if page.startswith(f"/{prefix}/")] == [poison_v1["page_id"]]

    # A replay while Firehose still rejects it fails, ends, and keeps the message.
    stuck = stack.cli_json("replay", "stream-dlq", expect=1, timeout=300)
    assert stuck["counts"] == {"failed": 1}, stuck
    assert len(_stream_dlq_messages(stack)) == 1

    # The fault is fixed; meanwhile a record in the DLQ's range changes again and lands.
    cleared = stack.control("/inject", {"kind": "clear_firehose_put_failures"})["cleared"]
    assert [fault["match"] for fault in cleared] == [poison_v1["page_id"]]
    newer = behind[-1]
    newer_v2 = generator.updated(newer)
    dynamodb.put_item(TableName=stack.table, Item=to_dynamodb(newer_v2))
    assert _drain_reasons(stack) - baseline == new_reasons  # only the DLQ message is left
    before_replay = _rows(stack, prefix)
    assert before_replay[_key(newer)][0] == _hits(newer_v2) != _hits(newer)

    replayed = stack.cli_json("replay", "stream-dlq")
    assert replayed["counts"] == {"replayed": 1}, replayed
    assert _drain_reasons(stack) == baseline
    assert _stream_dlq_messages(stack) == []

    # Each item holds its latest change; only the poison row was written by the replay.
    sequences = _stream_sequences(stack, {_key(i) for i in plain})
    rows = _rows(stack, prefix)
    latest = {_key(i): i for i in [*before, *after, poison_v2, newer_v2]}
    assert set(rows) == set(latest)
    for key, item in latest.items():
        assert rows[key][:2] == (_hits(item), sequences[key][-1]), key
    rewritten = {key for key in rows if rows[key][2] != before_replay[key][2]}
    assert rewritten == {_key(poison_v2)}, "the replay applied something a second time"
    assert stack.cli_json("verify")["ok"]
