"""Firehose delivery streams with a Lambda processor and an extended S3 destination.

moto's Firehose writes each PutRecordBatch straight to S3, so the functions' Firehose
calls come here instead (AWS_ENDPOINT_URL_FIREHOSE points at FirehoseAPI). Per delivery
stream read from the emulator this keeps a buffer, flushed when it reaches
BufferingHints.SizeInMBs or IntervalInSeconds (or on drain). A flush splits the buffer
into processor batches of the processor's BufferSizeInMBs (default 1 MB), invokes the
transform with the documented event, checks the response contract (every recordId
answered exactly once, result Ok | Dropped | ProcessingFailed, data base64 for Ok; any
violation fails the whole batch as Firehose does), retries an invocation that fails
NumberOfRetries times (default 3), then writes all Ok data concatenated as one object
under the expanded Prefix, named like Firehose names objects, and the failed records as
JSON lines under the ErrorOutputPrefix with error-output-type "processing-failed".
Timestamps in prefixes use the arrival time of the oldest record in the object, in the
stream's CustomTimeZone (UTC by default); FileExtension is appended to object names.
Accepted records are also appended to a journal per stream (<state>/firehose/), so a data
plane that is killed delivers them after its restart (at least once, as Firehose does).
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import re
import secrets
import string
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from .streams import Invoker

log = logging.getLogger("dataplane.firehose")

MAX_BATCH_RECORDS = 500
MAX_BATCH_BYTES = 4 * 1024 * 1024
MAX_RECORD_BYTES = 1000 * 1024
DEFAULT_PREFIX = "!{timestamp:yyyy/MM/dd/HH}/"
DEFAULT_ERROR_PREFIX = "!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd/HH}/"
JAVA_TO_STRFTIME = {
    "yyyy": "%Y",
    "yy": "%y",
    "MM": "%m",
    "dd": "%d",
    "HH": "%H",
    "mm": "%M",
    "ss": "%S",
}
RESULTS = {"Ok", "Dropped", "ProcessingFailed"}


def expand_prefix(prefix: str, when: datetime, *, error_output_type: str | None = None) -> str:
    """Firehose's custom prefix expressions: !{timestamp:<Java format>} (in when's zone),
    !{firehose:random-string}, !{firehose:error-output-type}."""

    def replace(match: re.Match[str]) -> str:
        namespace, _, argument = match.group(1).partition(":")
        if namespace == "timestamp":
            return java_date_format(argument, when)
        if namespace == "firehose" and argument == "random-string":
            return "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(11))
        if namespace == "firehose" and argument == "error-output-type" and error_output_type:
            return error_output_type
        raise ValueError(f"unsupported prefix expression !{{{match.group(1)}}} in {prefix!r}")

    return re.sub(r"!\{([^}]*)\}", replace, prefix)


def java_date_format(pattern: str, when: datetime) -> str:
    out = []
    index = 0
    while index < len(pattern):
        for token, directive in JAVA_TO_STRFTIME.items():
            if pattern.startswith(token, index):
                out.append(when.strftime(directive))
                index += len(token)
                break
        else:
            out.append(pattern[index])
            index += 1
    return "".join(out)


@dataclass(frozen=True)
class DeliveryStreamSpec:
    name: str
    arn: str
    version_id: str
    bucket: str
    prefix: str
    error_prefix: str
    buffer_bytes: int
    buffer_interval_s: float
    processor_arn: str | None
    processor_retries: int
    processor_buffer_bytes: int
    compression: str
    time_zone: str = "UTC"  # CustomTimeZone: the zone of prefix timestamps and object names
    file_extension: str = ""

    @classmethod
    def from_api(cls, description: dict[str, Any]) -> DeliveryStreamSpec | None:
        destinations = description.get("Destinations") or []
        if not destinations:
            return None
        destination = destinations[0].get("ExtendedS3DestinationDescription") or destinations[
            0
        ].get("S3DestinationDescription")
        if not destination:
            return None
        hints = destination.get("BufferingHints") or {}
        processor_arn = None
        retries = 3
        processor_buffer_mb = 1.0
        processing = destination.get("ProcessingConfiguration") or {}
        if processing.get("Enabled"):
            for processor in processing.get("Processors") or []:
                if processor.get("Type") != "Lambda":
                    continue
                parameters = {
                    p["ParameterName"]: p["ParameterValue"] for p in processor.get("Parameters", [])
                }
                processor_arn = parameters.get("LambdaArn")
                retries = int(parameters.get("NumberOfRetries", retries))
                processor_buffer_mb = float(parameters.get("BufferSizeInMBs", processor_buffer_mb))
        prefix = destination.get("Prefix") or ""
        if "!{" not in prefix:  # Firehose appends the default time path to a plain prefix
            prefix += DEFAULT_PREFIX
        return cls(
            name=description["DeliveryStreamName"],
            arn=description["DeliveryStreamARN"],
            version_id=str(description.get("VersionId", "1")),
            bucket=destination["BucketARN"].split(":::", 1)[1],
            prefix=prefix,
            error_prefix=destination.get("ErrorOutputPrefix") or DEFAULT_ERROR_PREFIX,
            buffer_bytes=int(float(hints.get("SizeInMBs", 5)) * 1024 * 1024),
            buffer_interval_s=float(hints.get("IntervalInSeconds", 300)),
            processor_arn=processor_arn,
            processor_retries=retries,
            processor_buffer_bytes=int(processor_buffer_mb * 1024 * 1024),
            compression=destination.get("CompressionFormat", "UNCOMPRESSED"),
            time_zone=destination.get("CustomTimeZone") or "UTC",
            file_extension=destination.get("FileExtension") or "",
        )


@dataclass
class BufferedRecord:
    record_id: str
    arrival_ms: int
    data: bytes


@dataclass
class StreamBuffer:
    records: list[BufferedRecord] = field(default_factory=list)
    size: int = 0
    opened_at: float = 0.0


@dataclass
class FirehoseStats:
    records_received: int = 0
    records_transformed: int = 0  # Ok
    records_dropped: int = 0
    records_failed: int = 0  # written under the error prefix
    put_failures_injected: int = 0
    objects_written: int = 0
    error_objects_written: int = 0


@dataclass
class PutFault:
    """Test hook: the next `calls` PutRecordBatch calls fail, wholly ("error"), every n-th
    record ("partial"), or only the records whose data contains `match` ("match": a poison
    record, rejected on every call that carries it; calls < 0: until cleared)."""

    calls: int
    mode: str  # "partial" | "error" | "match"
    every: int = 2
    stream: str | None = None
    match: str = ""

    def __post_init__(self) -> None:
        if self.mode not in ("partial", "error", "match"):
            raise ValueError(f"fault mode must be partial, error or match, got {self.mode!r}")
        if self.mode == "match" and not self.match:
            raise ValueError('a "match" fault needs a non-empty "match" string')

    def applies_to(self, datas: list[bytes]) -> bool:
        return self.mode != "match" or any(self.match.encode() in data for data in datas)

    def rejects(self, index: int, data: bytes) -> bool:
        if self.mode == "match":
            return self.match.encode() in data
        return index % max(self.every, 1) == 0


@dataclass
class WrittenObject:
    bucket: str
    key: str
    size: int
    etag: str
    change_ts_ms: list[int]
    delivered_data: bool  # under the delivery prefix (not the error prefix)


class FirehoseEmulator:
    """Buffers, transforms and delivers; thread-safe for the API server's puts."""

    def __init__(
        self,
        *,
        s3_client: Any,
        invoker: Invoker,
        region: str,
        on_object_written: Callable[[WrittenObject], None],
        journal_dir: Path | None = None,
    ) -> None:
        self.s3 = s3_client
        self.journal_dir = journal_dir
        self.invoker = invoker
        self.region = region
        self.on_object_written = on_object_written
        self.specs: dict[str, DeliveryStreamSpec] = {}
        self.buffers: dict[str, StreamBuffer] = {}
        self.faults: list[PutFault] = []
        self.stats = FirehoseStats()
        self.delivery_errors: dict[str, str] = {}  # stream -> why its last delivery failed
        self.lock = threading.Lock()

    def load(self, specs: list[DeliveryStreamSpec]) -> None:
        with self.lock:
            self.specs = {spec.name: spec for spec in specs}
            for spec in specs:
                if spec.name not in self.buffers:
                    self.buffers[spec.name] = self._read_journal(spec.name)
                if spec.compression not in ("UNCOMPRESSED", ""):
                    log.warning(
                        "%s: CompressionFormat %s is not emulated", spec.name, spec.compression
                    )

    # -- the API ----------------------------------------------------------------------
    def put_record_batch(self, stream_name: str, datas: list[bytes]) -> dict[str, Any]:
        with self.lock:
            if stream_name not in self.specs:
                raise FirehoseError(
                    "ResourceNotFoundException", f"Firehose {stream_name} under account not found."
                )
            if not datas or len(datas) > MAX_BATCH_RECORDS:
                raise FirehoseError(
                    "InvalidArgumentException",
                    f"Records must contain between 1 and {MAX_BATCH_RECORDS} records",
                )
            if sum(len(d) for d in datas) > MAX_BATCH_BYTES:
                raise FirehoseError("InvalidArgumentException", "Request exceeds 4 MiB")
            for data in datas:
                if len(data) > MAX_RECORD_BYTES:
                    raise FirehoseError(
                        "InvalidArgumentException",
                        f"Record size {len(data)} exceeds the 1,000 KiB record limit",
                    )
            fault = self._take_fault(stream_name, datas)
            if fault is not None and fault.mode == "error":
                self.stats.put_failures_injected += len(datas)
                raise FirehoseError("ServiceUnavailableException", "Slow down.", status=503)
            responses: list[dict[str, Any]] = []
            failed = 0
            now_ms = int(time.time() * 1000)
            buffer = self.buffers[stream_name]
            for index, data in enumerate(datas):
                if fault is not None and fault.rejects(index, data):
                    responses.append(
                        {"ErrorCode": "ServiceUnavailableException", "ErrorMessage": "Slow down."}
                    )
                    failed += 1
                    continue
                record_id = uuid.uuid4().hex + uuid.uuid4().hex
                if not buffer.records:
                    buffer.opened_at = time.monotonic()
                buffer.records.append(BufferedRecord(record_id, now_ms, data))
                buffer.size += len(data)
                responses.append({"RecordId": record_id})
            self._append_journal(
                stream_name, buffer.records[len(buffer.records) - (len(datas) - failed) :]
            )
            self.stats.records_received += len(datas) - failed
            self.stats.put_failures_injected += failed
            return {"FailedPutCount": failed, "Encrypted": False, "RequestResponses": responses}

    def _take_fault(self, stream_name: str, datas: list[bytes]) -> PutFault | None:
        """The first fault for this call; a call it applies to uses one of its calls."""
        for fault in self.faults:
            if fault.stream in (None, stream_name) and fault.calls and fault.applies_to(datas):
                if fault.calls > 0:
                    fault.calls -= 1
                    if fault.calls == 0:
                        self.faults.remove(fault)
                return fault
        return None

    # -- delivery ---------------------------------------------------------------------
    def pending_records(self) -> int:
        with self.lock:
            return sum(len(buffer.records) for buffer in self.buffers.values())

    def step(self, *, flush: bool) -> bool:
        busy = False
        for name in list(self.specs):
            with self.lock:
                spec = self.specs[name]
                buffer = self.buffers[name]
                due = buffer.records and (
                    flush
                    or buffer.size >= spec.buffer_bytes
                    or time.monotonic() - buffer.opened_at >= spec.buffer_interval_s
                )
                if not due:
                    continue
                self.buffers[name] = StreamBuffer()
            try:
                self._deliver(spec, buffer.records)
            except Exception as error:
                # Firehose keeps retrying delivery; the records stay buffered, drain says why
                self.delivery_errors[name] = f"{type(error).__name__}: {error}"
                log.exception("%s: delivery to s3://%s failed; records kept", name, spec.bucket)
                with self.lock:
                    current = self.buffers[name]
                    buffer.records.extend(current.records)
                    buffer.size += current.size
                    self.buffers[name] = buffer
                continue
            self.delivery_errors.pop(name, None)
            with self.lock:
                self._rewrite_journal(name, self.buffers[name].records)
            busy = True
        return busy

    # -- the journal: accepted records survive a data plane that is killed ------------------
    def _journal(self, stream_name: str) -> Path | None:
        return self.journal_dir / f"{stream_name}.jsonl" if self.journal_dir else None

    def _append_journal(self, stream_name: str, records: list[BufferedRecord]) -> None:
        path = self._journal(stream_name)
        if path is None or not records:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a") as journal:
            journal.writelines(journal_line(record) for record in records)

    def _rewrite_journal(self, stream_name: str, records: list[BufferedRecord]) -> None:
        """After a delivery: keep only what arrived meanwhile. A kill between the delivery
        and this rewrite delivers those records again (at least once, as Firehose does)."""
        path = self._journal(stream_name)
        if path is None:
            return
        temporary = path.with_suffix(".tmp")
        temporary.write_text("".join(journal_line(record) for record in records))
        temporary.replace(path)

    def _read_journal(self, stream_name: str) -> StreamBuffer:
        buffer = StreamBuffer()
        path = self._journal(stream_name)
        if path is None or not path.exists():
            return buffer
        for line in path.read_text().splitlines():
            entry = json.loads(line)
            data = base64.b64decode(entry["data"])
            buffer.records.append(BufferedRecord(entry["id"], entry["arrival_ms"], data))
            buffer.size += len(data)
        if buffer.records:
            buffer.opened_at = time.monotonic()
            log.info("%s: %d buffered records recovered", stream_name, len(buffer.records))
        return buffer

    def _deliver(self, spec: DeliveryStreamSpec, records: list[BufferedRecord]) -> None:
        delivered: list[tuple[BufferedRecord, bytes]] = []
        failed: list[dict[str, Any]] = []
        if spec.processor_arn is None:
            delivered = [(record, record.data) for record in records]
        else:
            for batch in split_by_size(records, spec.processor_buffer_bytes):
                ok, errors = self._transform(spec, batch)
                delivered.extend(ok)
                failed.extend(errors)
        with self.lock:
            self.stats.records_transformed += len(delivered) if spec.processor_arn else 0
            self.stats.records_failed += len(failed)
        oldest = datetime.fromtimestamp(
            min(r.arrival_ms for r in records) / 1000, ZoneInfo(spec.time_zone)
        )
        if delivered:
            body = b"".join(data for _, data in delivered)
            change_ts = [ts for record, _ in delivered for ts in change_timestamps(record.data)]
            prefix = expand_prefix(spec.prefix, oldest)
            self._put_object(spec, prefix, oldest, body, change_ts, delivered_data=True)
            with self.lock:
                self.stats.objects_written += 1
        if failed:
            body = b"".join(json.dumps(entry).encode() + b"\n" for entry in failed)
            prefix = expand_prefix(spec.error_prefix, oldest, error_output_type="processing-failed")
            self._put_object(spec, prefix, oldest, body, [], delivered_data=False)
            with self.lock:
                self.stats.error_objects_written += 1

    def _put_object(
        self,
        spec: DeliveryStreamSpec,
        prefix: str,
        when: datetime,
        body: bytes,
        change_ts: list[int],
        *,
        delivered_data: bool,
    ) -> None:
        stamp = f"{when:%Y-%m-%d-%H-%M-%S}"
        key = f"{prefix}{spec.name}-{spec.version_id}-{stamp}-{uuid.uuid4()}{spec.file_extension}"
        response = self.s3.put_object(Bucket=spec.bucket, Key=key, Body=body)
        log.info("%s: wrote s3://%s/%s (%d bytes)", spec.name, spec.bucket, key, len(body))
        self.on_object_written(
            WrittenObject(
                spec.bucket, key, len(body), response["ETag"].strip('"'), change_ts, delivered_data
            )
        )

    def _transform(
        self, spec: DeliveryStreamSpec, batch: list[BufferedRecord]
    ) -> tuple[list[tuple[BufferedRecord, bytes]], list[dict[str, Any]]]:
        assert spec.processor_arn is not None  # noqa: S101 - checked by the caller
        attempts = 0
        while True:
            attempts += 1
            event = {
                "invocationId": str(uuid.uuid4()),
                "deliveryStreamArn": spec.arn,
                "region": self.region,
                "records": [
                    {
                        "recordId": record.record_id,
                        "approximateArrivalTimestamp": record.arrival_ms,
                        "data": base64.b64encode(record.data).decode(),
                    }
                    for record in batch
                ],
            }
            result = self.invoker.invoke(spec.processor_arn, event)
            if result.ok:
                verdict = check_transform_response(result.payload, batch)
                if isinstance(verdict, dict):
                    return self._apply_results(spec, batch, verdict, attempts)
                error_code, error_message = verdict
            elif result.error_type == "Sandbox.Timedout":
                error_code = "Lambda.FunctionTimeout"
                error_message = "The Lambda function timed out: " + result.error_message
            else:
                error_code = "Lambda.FunctionError"
                error_message = (
                    "The Lambda function was successfully invoked but it returned an error result. "
                    f"{result.error_type}: {result.error_message}"
                )
            log.warning(
                "%s: transform attempt %d failed: %s %s",
                spec.name,
                attempts,
                error_code,
                error_message[:300],
            )
            if attempts > spec.processor_retries:
                return [], [
                    error_entry(record, attempts, error_code, error_message, spec.processor_arn)
                    for record in batch
                ]

    def _apply_results(
        self,
        spec: DeliveryStreamSpec,
        batch: list[BufferedRecord],
        results: dict[str, dict[str, Any]],
        attempts: int,
    ) -> tuple[list[tuple[BufferedRecord, bytes]], list[dict[str, Any]]]:
        assert spec.processor_arn is not None  # noqa: S101 - checked by the caller
        ok: list[tuple[BufferedRecord, bytes]] = []
        failed: list[dict[str, Any]] = []
        for record in batch:
            answer = results[record.record_id]
            if answer["result"] == "Ok":
                ok.append((record, base64.b64decode(answer["data"])))
            elif answer["result"] == "Dropped":
                with self.lock:
                    self.stats.records_dropped += 1
            else:
                failed.append(
                    error_entry(
                        record,
                        attempts,
                        "Lambda.ProcessingFailedStatus",
                        "ProcessingFailed status set for record",
                        spec.processor_arn,
                    )
                )
        return ok, failed


class FirehoseError(Exception):
    def __init__(self, error_type: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.message = message
        self.status = status


def journal_line(record: BufferedRecord) -> str:
    data = base64.b64encode(record.data).decode()
    entry = {"id": record.record_id, "arrival_ms": record.arrival_ms, "data": data}
    return json.dumps(entry) + "\n"


def split_by_size(records: list[BufferedRecord], limit: int) -> list[list[BufferedRecord]]:
    batches: list[list[BufferedRecord]] = []
    current: list[BufferedRecord] = []
    size = 0
    for record in records:
        if current and size + len(record.data) > limit:
            batches.append(current)
            current, size = [], 0
        current.append(record)
        size += len(record.data)
    if current:
        batches.append(current)
    return batches


def check_transform_response(
    payload: Any, batch: list[BufferedRecord]
) -> dict[str, dict[str, Any]] | tuple[str, str]:
    """The answers by recordId, or the (errorCode, errorMessage) that fails the batch."""
    if not isinstance(payload, dict) or not isinstance(payload.get("records"), list):
        return "Lambda.JsonProcessingException", 'The response is not {"records": [...]}'
    expected = {record.record_id for record in batch}
    answers: dict[str, dict[str, Any]] = {}
    for answer in payload["records"]:
        if not isinstance(answer, dict):
            return (
                "Lambda.JsonProcessingException",
                f"A record in the response is not an object: {answer!r}",
            )
        record_id = answer.get("recordId")
        if record_id not in expected:
            return (
                "Lambda.MissingRecordId",
                f"The response has a recordId not in the request: {record_id!r}",
            )
        if record_id in answers:
            return "Lambda.DuplicatedRecordId", f"The response answers recordId {record_id} twice"
        if answer.get("result") not in RESULTS:
            return (
                "Lambda.InvalidRecordResult",
                f"Invalid result {answer.get('result')!r} for {record_id}",
            )
        if answer["result"] == "Ok":
            data = answer.get("data")
            if not isinstance(data, str):
                return "Lambda.JsonProcessingException", f"No base64 data for Ok record {record_id}"
            try:
                base64.b64decode(data, validate=True)
            except (binascii.Error, ValueError):
                return "Lambda.JsonProcessingException", f"Invalid base64 data for {record_id}"
        answers[record_id] = answer
    missing = expected - answers.keys()
    if missing:
        return "Lambda.MissingRecordId", f"{len(missing)} recordIds were not answered"
    return answers


def error_entry(
    record: BufferedRecord, attempts: int, error_code: str, error_message: str, lambda_arn: str
) -> dict[str, Any]:
    return {
        "attemptsMade": attempts,
        "arrivalTimestamp": record.arrival_ms,
        "errorCode": error_code,
        "errorMessage": error_message,
        "attemptEndingTimestamp": int(time.time() * 1000),
        "rawData": base64.b64encode(record.data).decode(),
        "lambdaArn": lambda_arn,
    }


def change_timestamps(data: bytes) -> list[int]:
    """The `ts` (epoch ms) of each change record (JSON lines) in a Firehose record, for lag."""
    stamps = []
    for line in data.splitlines():
        try:
            value = json.loads(line)
        except ValueError:
            continue
        if isinstance(value, dict) and isinstance(value.get("ts"), int | float):
            stamps.append(int(value["ts"]))
    return stamps


# -- the HTTP API (AWS JSON 1.1) ---------------------------------------------------------
class FirehoseAPI:
    """Serves PutRecordBatch / PutRecord from the buffers; forwards every other call to moto."""

    def __init__(
        self, emulator: FirehoseEmulator, upstream_url: str, host: str = "127.0.0.1"
    ) -> None:
        self.emulator = emulator
        self.upstream_url = upstream_url
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status, headers, payload = api.handle(dict(self.headers), body)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                log.debug(format, *args)

        self.server = ThreadingHTTPServer((host, 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(
            target=self.server.serve_forever, name="firehose-api", daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def handle(self, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], bytes]:
        target = headers.get("X-Amz-Target", "")
        operation = target.rpartition(".")[2]
        json_headers = {
            "Content-Type": "application/x-amz-json-1.1",
            "x-amzn-RequestId": str(uuid.uuid4()),
        }
        try:
            if operation == "PutRecordBatch":
                request = json.loads(body)
                datas = [base64.b64decode(r["Data"]) for r in request.get("Records", [])]
                response = self.emulator.put_record_batch(request["DeliveryStreamName"], datas)
                return 200, json_headers, json.dumps(response).encode()
            if operation == "PutRecord":
                request = json.loads(body)
                response = self.emulator.put_record_batch(
                    request["DeliveryStreamName"], [base64.b64decode(request["Record"]["Data"])]
                )
                entry = response["RequestResponses"][0]
                if "ErrorCode" in entry:
                    raise FirehoseError(entry["ErrorCode"], entry["ErrorMessage"], status=500)
                return (
                    200,
                    json_headers,
                    json.dumps({"RecordId": entry["RecordId"], "Encrypted": False}).encode(),
                )
        except FirehoseError as error:
            payload = {"__type": error.error_type, "message": error.message}
            return error.status, json_headers, json.dumps(payload).encode()
        except (KeyError, ValueError, binascii.Error) as error:
            payload = {"__type": "InvalidArgumentException", "message": f"bad request: {error}"}
            return 400, json_headers, json.dumps(payload).encode()
        return self._forward(headers, body)

    def _forward(self, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], bytes]:
        import urllib.error
        import urllib.request

        keep = {
            k: v
            for k, v in headers.items()
            if k.lower() not in ("host", "content-length", "connection")
        }
        request = urllib.request.Request(  # noqa: S310 - the emulator's http URL
            self.upstream_url + "/", data=body, headers=keep, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback moto
                return (
                    response.status,
                    {"Content-Type": response.headers.get("Content-Type", "")},
                    response.read(),
                )
        except urllib.error.HTTPError as error:
            return error.code, {"Content-Type": error.headers.get("Content-Type", "")}, error.read()
