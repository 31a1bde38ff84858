"""moto in server mode, with its own (broken) Lambda delivery switched off.

moto stores event source mappings and bucket notifications, and on every DynamoDB
write it also "delivers" the stream records to the mapped function itself: it invokes
the stored function (docker, or a canned reply without docker), then DISCARDS the shard's
records when that call returns anything, so the dynamodbstreams API never shows them; and
a binary attribute makes that call, and with it the PutItem, fail with HTTP 500.
S3 notifications to Lambda are likewise invoked in-process. The local data plane is what
delivers these locally, so this launcher turns moto's delivery off and leaves every API
(including DynamoDB Streams and the stored configuration) as it is.

It also fixes one gap that makes a hardened bucket unusable: moto evaluates bucket policies
without their Condition blocks, so the usual DenyInsecureTransport statement (Deny s3:* when
aws:SecureTransport is false) denies every object read and write. The launcher drops just
those statements before moto evaluates a bucket policy, as if every request came over TLS
(which is what the SDKs use against AWS); every other statement is evaluated as before.

And it can restart without losing the account, which moto alone cannot (it keeps every
resource in memory only; its recorder's replay builds a different account, with new ARNs and
IDs). With ``--state-file PATH``, SIGUSR1 closes the server as an endpoint that restarts
would: new requests get HTTP 503 (which every AWS SDK retries), the ones in flight finish,
every backend is pickled to PATH and the process exits. A server started with a PATH that
exists loads it (the same tables, stream positions, queues, objects, keys) and removes it.
SIGTERM still exits without saving.

Usage: python -m scripts.local.dataplane.moto_server [-H 127.0.0.1] [-p PORT]
[--state-file PATH]
"""

from __future__ import annotations

import argparse
import collections
import functools
import io
import json
import logging
import os
import pickle
import signal
import sys
import threading
import time
import weakref
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

log = logging.getLogger("moto_server")
DRAIN_TIMEOUT_S = 30.0  # an SQS long poll holds a request for up to 20 s


def disable_in_process_delivery() -> None:
    from moto.awslambda.models import LambdaBackend
    from moto.s3 import notifications

    def keep_stream_records(self: Any, function_arn: str, items: list[Any], source: str) -> None:
        return None  # falsy: moto keeps the shard's records for the dynamodbstreams API

    def no_lambda_invoke(account_id: str, event_body: Any, fn_arn: str, region_name: str) -> None:
        return None

    LambdaBackend.send_dynamodb_items = keep_stream_records  # type: ignore[method-assign,assignment]
    notifications._invoke_awslambda = no_lambda_invoke


def is_insecure_transport_deny(statement: dict[str, Any]) -> bool:
    condition = statement.get("Condition") or {}
    bool_condition = {k.lower(): v for k, v in (condition.get("Bool") or {}).items()}
    return (
        statement.get("Effect") == "Deny"
        and list(condition) == ["Bool"]
        and list(bool_condition) == ["aws:securetransport"]
        and str(bool_condition["aws:securetransport"]).lower() == "false"
    )


def treat_requests_as_tls() -> None:
    from moto.iam.access_control import IAMPolicy, PermissionResult
    from moto.s3.models import FakeBucket

    def get_permission(self: Any, action: str, resource: str) -> Any:
        if self.policy is None:
            return PermissionResult.NEUTRAL
        document = json.loads(self.policy.decode())
        statements = document.get("Statement", [])
        if isinstance(statements, dict):
            statements = [statements]
        document["Statement"] = [s for s in statements if not is_insecure_transport_deny(s)]
        if not document["Statement"]:
            return PermissionResult.NEUTRAL
        return IAMPolicy(json.dumps(document)).is_action_permitted(action, resource)

    FakeBucket.get_permission = get_permission  # type: ignore[method-assign]


# ---- scans that do not cost the square of the table ------------------------------------------


def cache_sorted_scans() -> None:
    """moto sorts all of a table's items for every Scan page, then walks the sorted list up to
    the page's ExclusiveStartKey: a full scan of N items costs N/page sorts of N. Measured: a
    million-change soak's verify (600,000 items) was 30 % through after 53 minutes. Here the
    sorted list is kept until an item is put or deleted (or the items are replaced, by a
    restore), and a page starts at its start key (bisect), so pages come out the same, in the
    same order, at the cost of one sort per change of the table."""
    import bisect
    import inspect

    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.table import Table

    original_all_items = Table.all_items
    original_scan = Table.scan
    scan_signature = inspect.signature(original_scan)
    # table -> (its version, its items in scan order); outside the table, so never pickled
    sorted_by_table: weakref.WeakKeyDictionary[Any, tuple[tuple[int, int], list[Any]]] = (
        weakref.WeakKeyDictionary()
    )
    start_after = threading.local()

    def bump(method: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(method)
        def changed(self: Any, *args: Any, **kwargs: Any) -> Any:
            try:
                return method(self, *args, **kwargs)
            finally:
                self.scan_order_version = getattr(self, "scan_order_version", 0) + 1

        return changed

    def sort_key(item: Any) -> Any:  # moto's own, from Table.all_items
        return (item.hash_key, item.range_key) if item.range_key else item.hash_key

    def all_items(self: Any) -> list[Any]:
        version = (getattr(self, "scan_order_version", 0), id(self.items))
        cached_version, items = sorted_by_table.get(self, (None, []))
        if cached_version != version:
            items = original_all_items(self)
            sorted_by_table[self] = (version, items)
        start = getattr(start_after, "key", None)
        if start is not None:
            try:
                after: Any = DynamoType(start[self.hash_key_attr])
                if self.range_key_attr:
                    after = (after, DynamoType(start[self.range_key_attr]))
                return items[bisect.bisect_right(items, after, key=sort_key) :]
            except (KeyError, TypeError):
                pass  # moto's own walk from the first item finds the start
        return list(items)

    @functools.wraps(original_scan)
    def scan(self: Any, *args: Any, **kwargs: Any) -> Any:
        call = scan_signature.bind(self, *args, **kwargs)
        if not call.arguments.get("index_name"):
            start_after.key = call.arguments.get("exclusive_start_key")
        try:
            return original_scan(self, *args, **kwargs)
        finally:
            start_after.key = None

    Table.put_item = bump(Table.put_item)  # type: ignore[method-assign]
    Table.delete_item = bump(Table.delete_item)  # type: ignore[method-assign]
    Table.all_items = all_items  # type: ignore[method-assign]
    Table.scan = scan  # type: ignore[method-assign]


# ---- restart with the account kept ---------------------------------------------------------


def _weak_value_dictionary(items: dict[Any, Any]) -> weakref.WeakValueDictionary[Any, Any]:
    return weakref.WeakValueDictionary(items)


def _default_dict(
    cls: type[collections.defaultdict[Any, Any]],
    factory: Callable[[], Any] | None,
    items: dict[Any, Any],
    attributes: dict[str, Any],
) -> collections.defaultdict[Any, Any]:
    rebuilt = cls.__new__(cls)
    collections.defaultdict.__init__(rebuilt, factory)
    rebuilt.update(items)
    if attributes:
        rebuilt.__dict__.update(attributes)
    return rebuilt


def _private_key(der: bytes) -> Any:
    from cryptography.hazmat.primitives import serialization

    return serialization.load_der_private_key(der, password=None)


_LOCK_TYPES = (type(threading.Lock()), type(threading.RLock()))


class BackendPickler(pickle.Pickler):
    """pickle, plus the few things moto's backends hold that pickle refuses: locks (a fresh
    one), weak-value dictionaries, defaultdicts made with a lambda or a subclass __init__
    (SSM's ParameterDict), and KMS's private keys (as PKCS8 DER)."""

    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, _LOCK_TYPES):
            return (threading.RLock if "RLock" in type(obj).__name__ else threading.Lock, ())
        if isinstance(obj, weakref.WeakValueDictionary):
            return (_weak_value_dictionary, (dict(obj.items()),))
        if isinstance(obj, collections.defaultdict):
            factory = obj.default_factory
            if getattr(factory, "__name__", "") == "<lambda>" and factory is not None:
                sample = factory()
                factory = (
                    functools.partial(collections.defaultdict, sample.default_factory)
                    if isinstance(sample, collections.defaultdict)
                    else type(sample)
                )
            return (_default_dict, (type(obj), factory, dict(obj), getattr(obj, "__dict__", {})))
        if type(obj).__module__.startswith("cryptography") and hasattr(obj, "private_bytes"):
            from cryptography.hazmat.primitives import serialization

            der = obj.private_bytes(
                serialization.Encoding.DER,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            return (_private_key, (der,))
        return NotImplemented


def _backend_dicts() -> Iterable[Any]:
    from moto.core.base_backend import BackendDict

    instances = BackendDict._instances  # type: ignore[misc]
    return {id(backends): backends for backends in instances}.values()


def save_state(path: Path) -> int:
    """Pickle every backend in use ({service: {account: {region: backend}}}) to path
    atomically; returns its size."""
    state = {
        backends.service_name: {account: dict(regions) for account, regions in backends.items()}
        for backends in _backend_dicts()
    }
    buffer = io.BytesIO()
    BackendPickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(state)
    temporary = path.with_name(path.name + ".tmp")
    temporary.unlink(missing_ok=True)
    # owner only: the account's secrets are in it
    with os.fdopen(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as out:
        out.write(buffer.getbuffer())
    temporary.replace(path)
    return buffer.tell()


def load_state(path: Path) -> list[str]:
    """Install the backends saved at path; returns the services restored."""
    from moto.backends import get_backend

    state = pickle.loads(path.read_bytes())  # noqa: S301 - our own file, written by save_state
    for service, accounts in state.items():
        backends = get_backend(service)
        for account, regions in accounts.items():
            for region, backend in regions.items():
                dict.__setitem__(backends[account], region, backend)
    return sorted(state)


class RestartGate:
    """WSGI middleware that counts the requests in flight; once closed, it answers every
    new request 503 Service Unavailable, as an endpoint that is going away. A request is
    counted out when the server closes its response, that is after writing it: a client
    never loses the answer to a change that was applied."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.changed = threading.Condition()
        self.in_flight = 0
        self.closed = False

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        with self.changed:
            if self.closed:
                start_response(
                    "503 Service Unavailable",
                    [("Content-Type", "text/plain"), ("Connection", "close")],
                )
                return [b"Service Unavailable: the emulator is restarting"]
            self.in_flight += 1
        try:
            body = self.app(environ, start_response)
            try:
                chunks = list(body)
            finally:
                if hasattr(body, "close"):
                    body.close()
            return _Response(chunks, self._count_out)
        except BaseException:
            self._count_out()
            raise

    def _count_out(self) -> None:
        with self.changed:
            self.in_flight -= 1
            self.changed.notify_all()

    def close(self, timeout: float) -> bool:
        """Refuse new requests and wait for those in flight; False if some outlived timeout."""
        with self.changed:
            self.closed = True
            return self.changed.wait_for(lambda: self.in_flight == 0, timeout)


class _Response:
    """A response body whose ``close`` (called by the server once it is written) reports."""

    def __init__(self, chunks: list[bytes], on_close: Callable[[], None]) -> None:
        self.chunks = chunks
        self.on_close = on_close

    def __iter__(self) -> Any:
        return iter(self.chunks)

    def close(self) -> None:
        self.on_close()


def _save_and_exit(gate: RestartGate, path: Path) -> None:
    started = time.monotonic()
    if not gate.close(DRAIN_TIMEOUT_S):
        log.warning("requests still in flight after %.0f s; saving anyway", DRAIN_TIMEOUT_S)
    size = save_state(path)
    log.warning(
        "state saved to %s (%d bytes, %.1f s); exiting for a restart",
        path,
        size,
        time.monotonic() - started,
    )
    os._exit(0)  # the serving threads hold sockets; nothing else is left to flush


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=5000)
    parser.add_argument("--state-file", type=Path, default=None)
    args = parser.parse_args(argv)
    os.environ.setdefault("MOTO_PORT", str(args.port))

    disable_in_process_delivery()
    treat_requests_as_tls()
    cache_sorted_scans()
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
    from werkzeug.serving import run_simple

    if args.state_file is not None and args.state_file.exists():
        started = time.monotonic()
        services = load_state(args.state_file)
        args.state_file.unlink()
        log.warning(
            "state loaded from %s (%s) in %.1f s",
            args.state_file,
            ", ".join(services),
            time.monotonic() - started,
        )
    gate = RestartGate(DomainDispatcherApplication(create_backend_app))
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    if args.state_file is not None:
        state_file = args.state_file
        signal.signal(signal.SIGUSR1, lambda signum, frame: _save_and_exit(gate, state_file))
    run_simple(args.host, args.port, gate, threaded=True)


if __name__ == "__main__":
    main()
