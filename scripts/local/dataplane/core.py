"""The local data plane: what AWS would run for the deployed configuration.

DataPlane reads the deployed configuration back from the emulator's API (functions,
event source mappings, delivery streams, bucket notifications, event invoke configs)
and runs it: step() does one round of work, drain() works until quiescent and says
whether anything is stuck or failed. Usable in-process (tests) and from `serve`.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import boto3
from botocore import exceptions as botocore_errors
from botocore.config import Config

from .async_invoke import AsyncConfig, AsyncEvent, AsyncInvoker
from .firehose import DeliveryStreamSpec, FirehoseAPI, FirehoseEmulator, PutFault, WrittenObject
from .runtime import FunctionRuntime, FunctionSpec, InvokeResult, LaunchSettings
from .s3events import NotificationSpec, S3Notifier
from .streams import MappingPoller, MappingSpec, StreamStats, queue_url

log = logging.getLogger("dataplane")

STATE_FILE = "dataplane-state.json"


@dataclass
class LagHistogram:
    """Lag samples in 10 ms buckets: percentiles for /stats in memory that does not grow
    with the number of changes (a list of every sample grew ~4 MiB per 100,000)."""

    resolution_ms: int = 10
    buckets: Counter[int] = field(default_factory=Counter)
    samples: int = 0
    total_ms: int = 0
    max_ms: int | None = None

    def add(self, lag_ms: int) -> None:
        self.buckets[lag_ms // self.resolution_ms] += 1
        self.samples += 1
        self.total_ms += lag_ms
        self.max_ms = lag_ms if self.max_ms is None else max(self.max_ms, lag_ms)

    def percentile(self, fraction: float) -> int | None:
        """The sample at ``fraction`` of the sorted samples, to the bucket's resolution."""
        if not self.samples:
            return None
        rank = min(self.samples - 1, int(fraction * self.samples))
        seen = 0
        for bucket in sorted(self.buckets):
            seen += self.buckets[bucket]
            if seen > rank:
                return bucket * self.resolution_ms
        raise AssertionError("unreachable: the buckets hold every sample")

    def summary(self) -> dict[str, int | None]:
        return {
            "samples": self.samples,
            "p50": self.percentile(0.5),
            "p95": self.percentile(0.95),
            "max": self.max_ms,
            "mean": round(self.total_ms / self.samples) if self.samples else None,
        }


class DataPlane:
    def __init__(
        self,
        *,
        aws_endpoint_url: str,
        region: str,
        state_dir: Path,
        code_dirs: list[Path],
        mysql: dict[str, Any] | None = None,
        runtime_dir: Path | None = None,
        async_retry_delay_s: float = 0.5,
        s3_scan_interval_s: float = 1.0,
    ) -> None:
        self.endpoint = aws_endpoint_url
        self.region = region
        self.state_dir = state_dir
        self.mysql = mysql
        self.s3_scan_interval_s = s3_scan_interval_s
        self.lock = threading.RLock()
        session = boto3.session.Session(
            aws_access_key_id="test",
            aws_secret_access_key="test",  # noqa: S106 - the emulator's dummy credentials
            region_name=region,
        )
        # An emulator that stops answering surfaces within ~1 min (2 attempts of 20 s)
        # instead of botocore's default 60 s per read.
        config = Config(
            retries={"max_attempts": 2, "mode": "standard"}, connect_timeout=5, read_timeout=20
        )

        def client(service: str) -> Any:
            return session.client(service, endpoint_url=aws_endpoint_url, config=config)

        self.lambda_client = client("lambda")
        self.streams_client = client("dynamodbstreams")
        self.sqs = client("sqs")
        self.s3 = client("s3")
        self.firehose_client = client("firehose")

        self.settings = LaunchSettings(
            aws_endpoint_url=aws_endpoint_url,
            region=region,
            runtime_dir=runtime_dir or state_dir / "runtime",
            functions_dir=state_dir / "functions",
            logs_dir=state_dir / "logs",
            code_dirs=code_dirs,
        )
        self.functions = FunctionRuntime(self.settings)
        self.state = self._load_state()
        self.stream_stats = StreamStats()
        self.ttl_markers: list[dict[str, Any]] = []
        self.pollers: dict[str, MappingPoller] = {}
        self.async_configs: dict[str, AsyncConfig] = {}
        self.firehose = FirehoseEmulator(
            s3_client=self.s3,
            invoker=self.functions,
            region=region,
            on_object_written=self._object_written,
            journal_dir=state_dir / "firehose",
        )
        self.firehose_api = FirehoseAPI(self.firehose, aws_endpoint_url)
        self.settings.firehose_endpoint_url = self.firehose_api.url
        self.notifier = S3Notifier(
            s3_client=self.s3, region=region, seen=self.state["s3_seen"], emit=self._emit_s3_event
        )
        self.async_invoker = AsyncInvoker(
            invoker=self.functions,
            sqs_client=self.sqs,
            configs=self._async_config,
            dead_letter_arn=self._dead_letter_arn,
            retry_delay_s=async_retry_delay_s,
        )
        self.change_ts_by_object: dict[tuple[str, str], list[int]] = {}
        self.lag = LagHistogram()
        self.objects_loaded = 0
        self.load_failures: list[dict[str, Any]] = []  # all of them, for /stats
        self.load_failures_reported = 0  # how many of them drains have reported
        self.never_loaded: list[str] = []  # Firehose data objects no notification announced
        self.never_loaded_reported = 0
        self.records_discarded_reported = 0
        self.last_scan = 0.0
        self.last_summary: dict[str, Any] = {}
        self.started = False
        self._restore_object_events()

    # -- lifecycle ----------------------------------------------------------------------
    @classmethod
    def from_stack(cls, state_dir: Path, code_dirs: list[Path], **kwargs: Any) -> DataPlane:
        stack = json.loads((state_dir / "stack.json").read_text())
        return cls(
            aws_endpoint_url=stack["aws_endpoint_url"],
            region=stack.get("region", "us-east-1"),
            state_dir=state_dir,
            code_dirs=code_dirs,
            mysql=stack.get("mysql"),
            **kwargs,
        )

    def start(self) -> DataPlane:
        self.firehose_api.start()
        self.started = True
        self.reload()
        return self

    def close(self, *, flush: bool = True) -> None:
        with self.lock:
            if flush and self.started:
                try:
                    self.firehose.step(flush=True)
                except Exception:
                    log.exception("flushing Firehose buffers on close failed")
            self._save_state()
            self.functions.close()
            if self.started:
                self.firehose_api.stop()
                self.started = False

    def __enter__(self) -> DataPlane:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- deployed configuration ---------------------------------------------------------
    def reload(self) -> dict[str, Any]:
        """(Re)read everything deployed; keeps shard positions of unchanged mappings."""
        with self.lock:
            specs = [
                FunctionSpec.from_configuration(
                    self.lambda_client.get_function_configuration(FunctionName=f["FunctionName"])
                )
                for page in self.lambda_client.get_paginator("list_functions").paginate()
                for f in page["Functions"]
            ]
            self.settings.environment_overrides = {
                spec.name: self._local_overrides(spec) for spec in specs
            }
            self.functions.load(specs)
            self.async_configs = {}
            for spec in specs:
                try:
                    config = self.lambda_client.get_function_event_invoke_config(
                        FunctionName=spec.name
                    )
                    self.async_configs[spec.name] = AsyncConfig.from_api(config)
                except self.lambda_client.exceptions.ResourceNotFoundException:
                    self.async_configs[spec.name] = AsyncConfig()

            mappings = [
                MappingSpec.from_api(m)
                for page in self.lambda_client.get_paginator(
                    "list_event_source_mappings"
                ).paginate()
                for m in page["EventSourceMappings"]
                if m.get("State", "Enabled") in ("Enabled", "Creating", "Updating")
                and ":dynamodb:" in m.get("EventSourceArn", "")
            ]
            pollers = {}
            for spec in mappings:
                existing = self.pollers.get(spec.uuid)
                if existing is not None and existing.spec == spec:
                    pollers[spec.uuid] = existing
                    continue
                if spec.parallelization > 1:
                    log.info(
                        "mapping %s: ParallelizationFactor %d processed sequentially",
                        spec.uuid,
                        spec.parallelization,
                    )
                pollers[spec.uuid] = MappingPoller(
                    spec,
                    streams_client=self.streams_client,
                    sqs_client=self.sqs,
                    invoker=self.functions,
                    region=self.region,
                    checkpoints=self.state["checkpoints"].setdefault(spec.uuid, {}),
                    ttl_markers=self.ttl_markers,
                    stats=self.stream_stats,
                )
            self.pollers = pollers

            streams = []
            for page in [self.firehose_client.list_delivery_streams(Limit=10000)]:
                for name in page.get("DeliveryStreamNames", []):
                    description = self.firehose_client.describe_delivery_stream(
                        DeliveryStreamName=name
                    )["DeliveryStreamDescription"]
                    spec = DeliveryStreamSpec.from_api(description)
                    if spec is not None:
                        streams.append(spec)
            self.firehose.load(streams)

            notifications = []
            for bucket in self.s3.list_buckets().get("Buckets", []):
                config = self.s3.get_bucket_notification_configuration(Bucket=bucket["Name"])
                for entry in config.get("LambdaFunctionConfigurations", []):
                    notifications.append(NotificationSpec.from_api(bucket["Name"], entry))
            self.notifier.load(notifications)
            self._save_state()
            summary = {
                "functions": {s.name: s.handler for s in specs},
                "code_errors": dict(self.functions.code_errors),
                "event_source_mappings": [m.uuid for m in mappings],
                "delivery_streams": [s.name for s in streams],
                "notifications": [f"{n.bucket}:{n.prefix}*{n.suffix}" for n in notifications],
            }
            if summary != self.last_summary:
                self.last_summary = summary
                log.info("deployed configuration: %s", json.dumps(summary))
            return summary

    def _local_overrides(self, spec: FunctionSpec) -> dict[str, str]:
        """The Aurora endpoint becomes the local MariaDB; every other setting stays."""
        if self.mysql and "DB_HOST" in spec.environment:
            return {"DB_HOST": str(self.mysql["host"]), "DB_PORT": str(self.mysql["port"])}
        return {}

    def _async_config(self, function_arn: str) -> AsyncConfig:
        return self.async_configs.get(self.functions.resolve(function_arn), AsyncConfig())

    def _dead_letter_arn(self, function_arn: str) -> str | None:
        spec = self.functions.spec(function_arn)
        return spec.dead_letter_arn if spec else None

    # -- work -----------------------------------------------------------------------------
    def step(self, *, flush: bool = False) -> bool:
        """One round: stream batches, due Firehose flushes, new objects, due async events."""
        with self.lock:
            busy = False
            for poller in list(self.pollers.values()):
                busy |= poller.step(flush=flush)
            # a drain flushes Firehose once the streams are quiet, so buffers fill as they would
            busy |= self.firehose.step(flush=flush and not busy)
            if flush or time.monotonic() - self.last_scan >= self.s3_scan_interval_s:
                self.last_scan = time.monotonic()
                busy |= self.notifier.scan()
            busy |= self.async_invoker.step()
            if busy:
                self._save_state()
            return busy

    def drain(self, timeout_s: float = 300.0) -> dict[str, Any]:
        """Work until nothing is pending anywhere, then report what failed or is stuck."""
        with self.lock:
            deadline = time.monotonic() + timeout_s
            idle_rounds = 0
            reasons: list[str] = []
            while True:
                if time.monotonic() > deadline:
                    reasons.append(f"not quiescent after {timeout_s:.0f} s: {self._pending()}")
                    break
                if self.step(flush=True):
                    idle_rounds = 0
                    continue
                if self.async_invoker.waiting():
                    time.sleep(0.05)  # retries wait for their delay
                    continue
                idle_rounds += 1
                if idle_rounds >= 2:  # a second empty round: nothing arrived in between
                    break
                time.sleep(0.05)
            reasons.extend(self._failures())
            return {"ok": not reasons, "reasons": reasons, "stats": self.stats()}

    def _pending(self) -> dict[str, int]:
        return {
            "stream_records": sum(p.pending_records() for p in self.pollers.values()),
            "firehose_records": self.firehose.pending_records(),
            "async_events": self.async_invoker.waiting(),
        }

    def _failures(self) -> list[str]:
        """What a drain reports: the state of everything (delivery errors, messages in
        dead-letter queues, code errors) and what went wrong since the last drain, each once:
        loads that failed, objects no notification announced, stream records given up on
        (they are over; the stats keep them all, and a replay or a backfill recovers them)."""
        reasons = []
        for failure in self.load_failures[self.load_failures_reported :]:
            reasons.append(
                f"object s3://{failure['bucket']}/{failure['key']} not loaded by "
                f"{failure['function']} ({failure['condition']}): {failure['error']}"
            )
        self.load_failures_reported = len(self.load_failures)
        for stream, error in sorted(self.firehose.delivery_errors.items()):
            reasons.append(f"Firehose {stream} cannot deliver (records kept buffered): {error}")
        never_loaded = self.never_loaded[self.never_loaded_reported :]
        if never_loaded:
            reasons.append(
                f"{len(never_loaded)} objects delivered by Firehose match no bucket "
                f"notification, so nothing loads them (first: {never_loaded[0]})"
            )
        self.never_loaded_reported = len(self.never_loaded)
        discarded = self.stream_stats.records_discarded - self.records_discarded_reported
        if discarded:
            reasons.append(f"{discarded} stream records given up on with no on-failure destination")
        self.records_discarded_reported = self.stream_stats.records_discarded
        queues = {p.spec.on_failure_arn for p in self.pollers.values()}
        queues |= {c.on_failure_arn for c in self.async_configs.values()}
        queues |= {s.dead_letter_arn for s in self.functions.specs.values()}
        urls = {
            value  # queues the functions themselves dead-letter to (e.g. oversized records)
            for spec in self.functions.specs.values()
            for name, value in spec.environment.items()
            if name.endswith("DEAD_LETTER_QUEUE_URL") and value
        }
        reasons.extend(self._dead_letter_depths(queues, urls))
        used = {self.functions.resolve(p.spec.function_arn) for p in self.pollers.values()}
        used |= {self.functions.resolve(n.function_arn) for n in self.notifier.specs}
        used |= {
            self.functions.resolve(s.processor_arn)
            for s in self.firehose.specs.values()
            if s.processor_arn
        }
        for name in sorted(used & self.functions.code_errors.keys()):
            reasons.append(self.functions.code_errors[name])
        return reasons

    # -- wiring between the parts -------------------------------------------------------

    def _dead_letter_depths(self, arns: set[str | None], urls: set[str]) -> list[str]:
        """A reason per dead-letter queue holding messages. A queue that cannot be read is a
        reason too, and logged; once the emulator does not answer (a transport error, each
        one a whole retry budget) the remaining queues are not tried: the drain holds the
        data plane's lock meanwhile."""
        reasons: list[str] = []
        queues = sorted(a for a in arns if a and ":sqs:" in a) + sorted(urls)
        read: set[str] = set()
        for index, queue in enumerate(queues):
            try:
                url = queue_url(self.sqs, queue) if queue.startswith("arn:") else queue
                if url in read:
                    continue
                read.add(url)
                attributes = self.sqs.get_queue_attributes(
                    QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"]
                )["Attributes"]
            except Exception as error:
                log.warning("cannot read dead-letter queue %s: %s", queue, error)
                reason = f"cannot read dead-letter queue {queue}: {error}"
                # the emulator does not answer: refused, timed out, closed without a reply
                if isinstance(
                    error, botocore_errors.HTTPClientError | botocore_errors.ConnectionError
                ):
                    reasons.append(f"{reason}; {len(queues) - index - 1} more not checked")
                    break
                reasons.append(reason)
                continue
            count = int(attributes.get("ApproximateNumberOfMessages", 0))
            if count:
                reasons.append(f"{count} messages in dead-letter queue {url}")
        return reasons

    def _object_written(self, written: WrittenObject) -> None:
        if written.change_ts_ms:
            self.change_ts_by_object[(written.bucket, written.key)] = written.change_ts_ms
        self.notifier.object_created(written.bucket, written.key, written.size, written.etag)
        if written.delivered_data and not self.notifier.last_matched:
            self.never_loaded.append(f"s3://{written.bucket}/{written.key}")

    def _emit_s3_event(
        self, spec: NotificationSpec, event: dict[str, Any], obj: tuple[str, str, str]
    ) -> None:
        bucket, key, _etag = obj
        self._submit_object_event(spec.function_arn, event, bucket, key, attempts=0)

    def _submit_object_event(
        self, function_arn: str, event: dict[str, Any], bucket: str, key: str, *, attempts: int
    ) -> None:
        function = self.functions.resolve(function_arn)

        def loaded(_result: InvokeResult) -> None:
            self.objects_loaded += 1
            now_ms = int(time.time() * 1000)
            for ts in self.change_ts_by_object.pop((bucket, key), []):
                self.lag.add(now_ms - ts)

        def exhausted(result: InvokeResult, condition: str) -> None:
            self.load_failures.append(
                {
                    "bucket": bucket,
                    "key": key,
                    "function": function,
                    "condition": condition,
                    "error": f"{result.error_type}: {result.error_message[:500]}",
                }
            )

        self.async_invoker.submit(
            AsyncEvent(
                function_arn,
                event,
                enqueued_at=time.monotonic(),
                attempts=attempts,
                on_success=loaded,
                on_exhausted=exhausted,
                label={"bucket": bucket, "key": key},
            )
        )

    def _restore_object_events(self) -> None:
        """Object events queued when the data plane stopped: their objects are already
        marked as announced, so without this a restart would never load them."""
        for saved in self.state.pop("async_pending", []):
            self._submit_object_event(
                saved["function_arn"],
                saved["event"],
                saved["label"]["bucket"],
                saved["label"]["key"],
                attempts=saved["attempts"],
            )

    # -- observability and test hooks -------------------------------------------------------
    def stats(self) -> dict[str, Any]:
        return {
            "changes_streamed": self.stream_stats.changes_streamed,
            "records_transformed": self.firehose.stats.records_transformed,
            "records_failed": self.firehose.stats.records_failed,
            "records_dropped": self.firehose.stats.records_dropped,
            "objects_loaded": self.objects_loaded,
            "load_failures": len(self.load_failures),
            "failed_loads": [f"s3://{f['bucket']}/{f['key']}" for f in self.load_failures],
            "objects_never_loaded": len(self.never_loaded),
            "invocations": {
                name: {
                    **asdict(stats),
                    "mean_ms": round(stats.total_ms / stats.invocations, 3)
                    if stats.invocations
                    else 0,
                }
                for name, stats in self.functions.stats.items()
            },
            "lag_ms": self.lag.summary(),
            "streams": asdict(self.stream_stats),
            "firehose": asdict(self.firehose.stats),
            "async": asdict(self.async_invoker.stats),
            "pending": self._pending(),
        }

    def inject(self, spec: dict[str, Any]) -> dict[str, Any]:
        """Test hooks.
        {"kind": "firehose_put_failure", "mode": "partial"|"error", "calls": N, "every": 2,
         "stream": name?}: the next N PutRecordBatch calls fail (every n-th record, or wholly).
        {"kind": "firehose_put_failure", "mode": "match", "match": text, "calls": -1}: every
         record whose data contains text is rejected, on every call (a poison record), until
         {"kind": "clear_firehose_put_failures"} (or N calls carrying one, with calls: N).
        {"kind": "ttl_delete", "table_name": t, "keys": {typed keys}}: the next REMOVE of
         those keys carries TTL's userIdentity, as if DynamoDB's TTL had deleted the item.
        """
        kind = spec.get("kind")
        if kind == "firehose_put_failure":
            fault = PutFault(
                calls=int(spec.get("calls", 1)),
                mode=spec.get("mode", "partial"),
                every=int(spec.get("every", 2)),
                stream=spec.get("stream"),
                match=str(spec.get("match", "")),
            )
            with self.firehose.lock:
                self.firehose.faults.append(fault)
            return {"injected": asdict(fault)}
        if kind == "clear_firehose_put_failures":
            with self.firehose.lock:
                cleared = [asdict(fault) for fault in self.firehose.faults]
                self.firehose.faults.clear()
            return {"cleared": cleared}
        if kind == "ttl_delete":
            marker = {"table_name": spec["table_name"], "keys": spec["keys"]}
            with self.lock:
                self.ttl_markers.append(marker)
            return {"injected": marker}
        raise ValueError(f"unknown injection kind {kind!r}")

    # -- state -----------------------------------------------------------------------------
    def _load_state(self) -> dict[str, Any]:
        path = self.state_dir / STATE_FILE
        state: dict[str, Any] = {"checkpoints": {}, "s3_seen": {}}
        if path.exists():
            state.update(json.loads(path.read_text()))
        return state

    def _save_state(self) -> None:
        self.state["async_pending"] = [
            {
                "function_arn": item.function_arn,
                "event": item.event,
                "attempts": item.attempts,
                "label": item.label,
            }
            for item in self.async_invoker.queue
            if item.label is not None
        ]
        self.state_dir.mkdir(parents=True, exist_ok=True)
        path = self.state_dir / STATE_FILE
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(self.state))
        temporary.replace(path)
