"""Tiny Lambda handlers zipped by test_dataplane.py (they run in the data plane's workers)."""

import base64
import json
import os


def _log(kind, payload):
    with open(os.environ["EVENT_LOG"], "a") as f:
        f.write(
            json.dumps(
                {"kind": kind, "fn": os.environ["AWS_LAMBDA_FUNCTION_NAME"], "payload": payload}
            )
            + "\n"
        )


def _once(tag):
    marker = os.environ["EVENT_LOG"] + "." + tag
    if os.path.exists(marker):
        return False
    open(marker, "w").close()
    return True


def echo(event, context):
    _log("event", event)
    return {
        "ok": True,
        "remaining": context.get_remaining_time_in_millis(),
        "request_id": context.aws_request_id,
        "env": os.environ.get("SETTING"),
    }


def fail_on_poison(event, context):
    _log("event", event)
    for record in event["Records"]:
        if "poison" in record["dynamodb"].get("NewImage", {}):
            raise RuntimeError("poison record " + record["dynamodb"]["SequenceNumber"])
    return {"batchItemFailures": []}


def report_poison(event, context):
    """Never fails; reports the first poison record of every batch (as stream_processor
    reports the first record Firehose would not take)."""
    _log("event", event)
    for record in event["Records"]:
        if "poison" in record["dynamodb"].get("NewImage", {}):
            return {"batchItemFailures": [{"itemIdentifier": record["dynamodb"]["SequenceNumber"]}]}
    return {"batchItemFailures": []}


def partial_once(event, context):
    _log("event", event)
    failures = [
        {"itemIdentifier": r["dynamodb"]["SequenceNumber"]}
        for r in event["Records"]
        if "flaky" in r["dynamodb"].get("NewImage", {}) and _once(r["dynamodb"]["SequenceNumber"])
    ]
    return {"batchItemFailures": failures}


def always_fail(event, context):
    _log("event", event)
    raise ValueError("this function always fails")


def crash_once(event, context):
    _log("event", event)
    if _once("crash"):
        os._exit(7)
    return "survived"


def transform(event, context):
    _log("transform", {"count": len(event["records"]), "keys": sorted(event)})
    out = []
    for record in event["records"]:
        data = base64.b64decode(record["data"])
        if data.startswith(b"bad"):
            out.append(
                {
                    "recordId": record["recordId"],
                    "result": "ProcessingFailed",
                    "data": record["data"],
                }
            )
        elif data.startswith(b"drop"):
            out.append(
                {"recordId": record["recordId"], "result": "Dropped", "data": record["data"]}
            )
        else:
            out.append(
                {
                    "recordId": record["recordId"],
                    "result": "Ok",
                    "data": base64.b64encode(data.upper()).decode(),
                }
            )
    return {"records": out}


def transform_missing_id(event, context):
    _log("transform", {"count": len(event["records"])})
    return {
        "records": [
            {"recordId": r["recordId"], "result": "Ok", "data": r["data"]}
            for r in event["records"][1:]
        ]
    }


def to_firehose(event, context):
    import boto3

    firehose = boto3.client("firehose")
    lines = [
        json.dumps(
            {
                "seq": r["dynamodb"]["SequenceNumber"],
                "ts": r["dynamodb"]["ApproximateCreationDateTime"] * 1000,
            }
        ).encode()
        + b"\n"
        for r in event["Records"]
    ]
    for start in range(0, len(lines), 500):
        response = firehose.put_record_batch(
            DeliveryStreamName=os.environ["DELIVERY_STREAM_NAME"],
            Records=[{"Data": line} for line in lines[start : start + 500]],
        )
        if response["FailedPutCount"]:
            raise RuntimeError("PutRecordBatch failed")
    return {"batchItemFailures": []}


def load(event, context):
    _log("load", [r["s3"]["object"]["key"] for r in event["Records"]])
