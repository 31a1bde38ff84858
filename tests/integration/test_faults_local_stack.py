"""Infrastructure faults on the session's shared local stack, while changes flow: MariaDB
restarted, the emulator (moto) restarted, and the emulator unreachable. After each, the
pipeline is drained, the loader dead-letter queue replayed when loads landed there, and
then: `ddb2aurora verify` agrees (the database equals DynamoDB), every live key written
during the run is in the database (nothing lost), and no S3 object was applied twice (the
manifest holds each object, or its replay copy, once).

moto alone cannot restart: it keeps the whole emulated account in memory, and its recorder's
replay does not rebuild the same account (a replayed CreateTable gets a new stream ARN while
the replayed event source mapping names the old one; generated IDs differ). The stack's moto
launcher therefore saves every backend on SIGUSR1 and a new process loads them
(`scripts/local/stack.py::restart_moto`): the restart test is a real new process, with
requests refused (503, then connection refused) while it is away. The unreachable test
is the other way an endpoint fails: the process is stopped with SIGSTOP (the kernel still
accepts TCP connections, nothing answers, so clients run into their read timeouts: the
functions' 10 s, the data plane's 20 s, the Firehose API forwarder's 30 s) and resumed with
SIGCONT once a call to it has given up.
"""

from __future__ import annotations

import json
import os
import re
import signal
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest

from scripts.local import stack as local_stack
from scripts.local.sample_data import ClickstreamGenerator, key_of, to_dynamodb
from tests.support.local_stack import LocalStack

pytestmark = pytest.mark.localstack

MARIADB_DOWN_SECONDS = 5.0  # at least; it stays down until a load has failed against it
# frozen: at least past one read timeout of every client (the functions' 10 s, the data
# plane's 20 s), and until the data plane has logged a call to it that gave up. How long
# that takes is not fixed: one S3 PUT to a stopped server was measured giving up after
# 19-65 s (2 attempts; Expect: 100-continue, body sent, then the read timeout), and the
# data plane may first wait on a function whose own calls to moto are timing out. A fixed
# 75 s freeze was sometimes over before anything was logged (a drain's dead-letter queue
# reads failed silently for minutes; they are logged now)
MOTO_FROZEN_MIN_SECONDS = 25.0
MOTO_FROZEN_MAX_SECONDS = 300.0
# how botocore words a call to an endpoint that accepted the connection and never answered
EMULATOR_CALL_TIMED_OUT = re.compile(
    r"(Read timeout on|Connect timeout on"
    r"|Connection was closed before we received a valid response from) endpoint URL"
)
# refused: past the functions' 3 tries with <= 3 s of backoff (the data plane's 2)
MOTO_RESTART_DOWN_SECONDS = 10.0
LOADER_DLQ = "loader_dead_letter_queue_url"


@pytest.fixture(scope="module")
def stack(shared_local_stack: Any) -> LocalStack:
    return LocalStack.of(shared_local_stack)


@dataclass
class ChangeWriter:
    """Writes inserts, updates and deletes of its own page_id prefix; remembers the live keys."""

    stack: LocalStack
    prefix: str
    seed: int
    live: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)
    written: int = 0

    def __post_init__(self) -> None:
        self._generator = ClickstreamGenerator(seed=self.seed)
        self._dynamodb = self.stack.client("dynamodb")

    def write(self, count: int) -> None:
        for _ in range(count):
            self.write_one()

    def write_one(self) -> None:
        step = self.written
        self.written += 1
        if step % 5 == 4 and self.live:
            key = sorted(self.live)[step % len(self.live)]
            item = self.live.pop(key)
            self._dynamodb.delete_item(TableName=self.stack.table, Key=key_of(item))
            return
        if step % 3 == 2 and self.live:
            key = sorted(self.live)[step % len(self.live)]
            item = self._generator.updated(self.live[key])
        else:
            item = next(self._generator.items(1))
            item = {**item, "page_id": f"/{self.prefix}{item['page_id']}"}
        self._dynamodb.put_item(TableName=self.stack.table, Item=to_dynamodb(item))
        self.live[(item["page_id"], item["activity_dt"])] = item


class Background:
    """Runs ``action`` over and over in a thread until stopped. With ``tolerate_errors``
    failed calls are expected (the outage); otherwise the first error stops the loop and
    is raised on exit."""

    def __init__(self, action: Any, *, tolerate_errors: bool, pause: float = 0.05) -> None:
        self._action = action
        self._tolerate_errors = tolerate_errors
        self._pause = pause
        self._error: Exception | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self._action()
            except Exception as error:
                if not self._tolerate_errors:
                    self._error = error
                    return
            self._stop.wait(self._pause)

    def __enter__(self) -> Background:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=900)
        assert not self._thread.is_alive(), "the background loop did not stop"
        if self._error is not None:
            raise self._error


class DataPlaneLog:
    """The data plane's log from the moment this is made: what it said during a fault."""

    def __init__(self, stack: LocalStack) -> None:
        self._path = stack.state_dir / "logs" / "dataplane.log"
        self._offset = self._path.stat().st_size

    def text(self) -> str:
        with self._path.open("rb") as lines:
            lines.seek(self._offset)
            return lines.read().decode(errors="replace")

    def wait_for(self, pattern: re.Pattern[str], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while not pattern.search(self.text()):
            if time.monotonic() > deadline:
                return False
            time.sleep(1)
        return True


@contextmanager
def drains_under_way(stack: LocalStack) -> Iterator[None]:
    """Drains run back to back while the block injects its fault: records are moving
    through every stage when it starts, and the data plane keeps stepping through it."""
    with Background(lambda: stack.drain(60), tolerate_errors=True):
        time.sleep(1)
        yield
        time.sleep(2)


def _failed_loads(stats: dict[str, Any]) -> int:
    return int(stats["async"]["retried"]) + int(stats["async"]["exhausted"])


def _recover_and_check(stack: LocalStack, writer: ChangeWriter) -> None:
    """Drain, replay the loader DLQ if loads landed there, then the promises; the last
    drain must be clean, so the tests after this one share a healthy stack."""
    report = stack.drain()
    allowed = ("not loaded by", "messages in dead-letter queue")
    assert all(any(text in reason for text in allowed) for reason in report["reasons"]), report
    if stack.queue_depth(LOADER_DLQ):
        replay = stack.cli_json("replay", "loader-dlq", "--wait", "180")
        assert replay["ok"] and replay["counts"].get("replayed", 0) >= 1, replay
    final = stack.drain()
    assert final["ok"], final
    assert stack.queue_depth(LOADER_DLQ) == 0

    verify = stack.cli_json("verify")
    assert verify["ok"], verify
    assert stack.live_keys(writer.prefix) == set(writer.live)  # nothing lost
    copies = stack.sql(
        "SELECT COUNT(*), COUNT(DISTINCT `bucket`,"
        " SUBSTRING_INDEX(object_key, '.replay-', 1)) FROM _ddb2aurora_manifest"
    )
    assert copies[0][0] == copies[0][1]  # no object applied twice, nor with its replay copy


def test_mariadb_restarted_while_changes_flow_loses_nothing_and_applies_nothing_twice(
    stack: LocalStack,
) -> None:
    """Injected: the stack's MariaDB is stopped (SIGTERM, clean shutdown: open loader
    transactions roll back) while a writer keeps changing DynamoDB and drains keep Firehose
    flushing and the loader loading; it stays down at least 5 s and until a load has failed
    against it, then starts again on the same data directory and port."""
    writer = ChangeWriter(stack, f"mdb{uuid.uuid4().hex[:6]}", seed=41)
    writer.write(40)
    failed_before = _failed_loads(stack.stats())

    def down_until_a_load_failed() -> None:
        deadline = time.monotonic() + 120
        time.sleep(MARIADB_DOWN_SECONDS)
        while _failed_loads(stack.stats()) == failed_before and time.monotonic() < deadline:
            time.sleep(0.5)

    with (
        Background(writer.write_one, tolerate_errors=False),
        Background(lambda: stack.drain(60), tolerate_errors=True),
    ):
        time.sleep(3)
        local_stack.restart_mariadb(stack.state_dir, while_down=down_until_a_load_failed)
        written_at_restart = writer.written
        while writer.written < written_at_restart + 40:
            time.sleep(0.2)

    assert _failed_loads(stack.stats()) > failed_before, "no load met the outage: not tested"
    _recover_and_check(stack, writer)


def test_emulator_unreachable_mid_run_loses_nothing_and_applies_nothing_twice(
    stack: LocalStack,
) -> None:
    """Injected: the moto server process is frozen (SIGSTOP) with changes in the stream, in
    Firehose's buffers and objects waiting to be loaded, while drains keep the data plane
    stepping: at least 25 s, and until a call of the data plane to it has given up (timed
    out through all its attempts) and been logged; then resumed (SIGCONT).
    Nothing is restarted: the data plane must keep its buffered records and stream positions
    across the failed calls."""
    writer = ChangeWriter(stack, f"moto{uuid.uuid4().hex[:6]}", seed=43)
    writer.write(60)
    moto_pid = int(json.loads((stack.state_dir / "moto.json").read_text())["pid"])
    log = DataPlaneLog(stack)

    with drains_under_way(stack):
        os.kill(moto_pid, signal.SIGSTOP)
        try:
            time.sleep(MOTO_FROZEN_MIN_SECONDS)
            felt = log.wait_for(EMULATOR_CALL_TIMED_OUT, MOTO_FROZEN_MAX_SECONDS)
        finally:
            os.kill(moto_pid, signal.SIGCONT)
    # the outage was felt: a call to the emulator gave up on it and the data plane logged it
    assert felt, log.text()[-3000:]

    writer.write(30)  # and the pipeline carries on
    _recover_and_check(stack, writer)


def test_emulator_restarted_mid_run_loses_nothing_and_applies_nothing_twice(
    stack: LocalStack,
) -> None:
    """Injected: the moto server is restarted (``scripts/local/stack.py::restart_moto``) while
    a drain moves changes through every stage (in the stream, in Firehose's buffers, objects
    waiting to be loaded): it answers 503 to new requests, lets those in flight finish, saves
    its account and exits; nothing listens on its port for 10 s (connections refused, past
    the data plane's and the functions' retries); then a new process on the same port loads
    the saved account. The data plane and the function workers keep running, with their
    clients, stream positions and buffered records."""
    writer = ChangeWriter(stack, f"mrs{uuid.uuid4().hex[:6]}", seed=47)
    writer.write(60)
    moto_json = stack.state_dir / "moto.json"
    pid_before = json.loads(moto_json.read_text())["pid"]
    log = DataPlaneLog(stack)

    with drains_under_way(stack):
        local_stack.restart_moto(
            stack.state_dir, while_down=lambda: time.sleep(MOTO_RESTART_DOWN_SECONDS)
        )
    assert json.loads(moto_json.read_text())["pid"] != pid_before, "not a new process"
    # the outage was felt: a call to the emulator was refused and logged
    assert "Could not connect to the endpoint URL" in log.text(), log.text()[-3000:]

    writer.write(30)  # and the pipeline carries on
    _recover_and_check(stack, writer)
