"""status: one screen of health. Each part is read on its own; a part that cannot be read
shows its error instead of failing the whole screen."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from ddb2aurora.ops.errors import OpsError
from ddb2aurora.ops.replay import list_keys
from ddb2aurora.ops.target import Target
from ddb2aurora.ops.verify import last_result
from ddb2aurora.sql import MANIFEST_TABLE

ERROR_OBJECTS_LIMIT = 1000


def _part(read: Callable[[], Any]) -> Any:
    try:
        return read()
    except OpsError as error:
        return {"error": str(error)}
    except Exception as error:  # a DB or network failure of one part: show it, go on
        return {"error": f"{type(error).__name__}: {error}"}


def stream_lag(target: Target) -> dict[str, Any]:
    if target.control_url:
        request = urllib.request.Request(target.control_url + "/stats")  # noqa: S310 - loopback
        with urllib.request.urlopen(request, timeout=10) as reply:  # noqa: S310
            stats = json.loads(reply.read())
        return {
            "source": "local data plane",
            "lag_ms": stats.get("lag_ms"),
            "pending": stats.get("pending"),
        }
    function = target.require("stream_function")
    now = datetime.now(UTC)
    response = target.aws.client("cloudwatch").get_metric_statistics(
        Namespace="AWS/Lambda",
        MetricName="IteratorAge",
        Dimensions=[{"Name": "FunctionName", "Value": function}],
        StartTime=now - timedelta(minutes=15),
        EndTime=now,
        Period=60,
        Statistics=["Maximum"],
    )
    points = sorted(response.get("Datapoints", []), key=lambda p: p["Timestamp"])
    if not points:
        return {
            "source": "CloudWatch IteratorAge",
            "iterator_age_ms": None,
            "note": "no data in the last 15 minutes (no stream traffic)",
        }
    return {
        "source": "CloudWatch IteratorAge",
        "iterator_age_ms": points[-1]["Maximum"],
        "at": points[-1]["Timestamp"].isoformat(),
    }


def queue_depth(target: Target, name: str) -> dict[str, Any]:
    url = target.require(name)
    attributes = target.aws.client("sqs").get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return {
        "queue": url,
        "visible": int(attributes.get("ApproximateNumberOfMessages", 0)),
        "in_flight": int(attributes.get("ApproximateNumberOfMessagesNotVisible", 0)),
    }


def error_objects(target: Target) -> dict[str, Any]:
    prefix = target.error_prefix_root()
    keys = list_keys(target.aws.client("s3"), target.require("bucket"), prefix, ERROR_OBJECTS_LIMIT)
    return {
        "prefix": prefix,
        "objects": len(keys),
        "more": len(keys) >= ERROR_OBJECTS_LIMIT,
        "oldest": keys[0] if keys else None,
    }


def last_load(connection: Any) -> dict[str, Any] | None:
    connection.commit()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT `object_key`, `row_count`, `loaded_at`, "
            f"(SELECT COUNT(*) FROM `{MANIFEST_TABLE}`) FROM `{MANIFEST_TABLE}` "
            "ORDER BY `loaded_at` DESC LIMIT 1"
        )
        row = cursor.fetchone()
    if row is None:
        return None
    key, rows, loaded_at, objects = row
    return {
        "object_key": key,
        "rows": int(rows),
        "loaded_at": str(loaded_at),
        "objects_loaded": int(objects),
    }


def collect(target: Target, connect: Callable[[], Any]) -> dict[str, Any]:
    status: dict[str, Any] = {
        "stream_lag": _part(lambda: stream_lag(target)),
        "stream_dlq": _part(lambda: queue_depth(target, "stream_dlq_url")),
        "loader_dlq": _part(lambda: queue_depth(target, "loader_dlq_url")),
        "error_prefix": _part(lambda: error_objects(target)),
    }
    try:
        connection = connect()
    except OpsError as error:
        status["last_load"] = status["last_verify"] = {"error": str(error)}
        return status
    try:
        status["last_load"] = _part(lambda: last_load(connection))
        status["last_verify"] = _part(lambda: last_result(connection))
    finally:
        connection.close()
    return status


def healthy(status: dict[str, Any]) -> bool:
    """No errors reading, empty queues, nothing under the error prefix, last verify ok."""
    parts = [value for value in status.values() if isinstance(value, dict)]
    if any("error" in part for part in parts):
        return False
    queues = (status["stream_dlq"], status["loader_dlq"])
    if any(q["visible"] or q["in_flight"] for q in queues):
        return False
    if status["error_prefix"]["objects"]:
        return False
    verify = status.get("last_verify")
    return not (verify and not verify["ok"])
