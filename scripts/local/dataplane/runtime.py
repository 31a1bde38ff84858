"""Run deployed Lambda functions locally: one warm worker process per function.

Each function runs the zip whose sha256 equals the CodeSha256 that the emulator holds
(so what runs is what Terraform deployed), unpacked under <state>/functions/<name>/,
with the handler, environment, timeout and memory of the deployed configuration, in the
interpreter matching its Runtime. The worker is reused across invocations like a warm
Lambda container and restarted after a crash or a timeout. Invocations of one function
run one at a time (reserved concurrency 1), which keeps ordering easy to reason about.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import glob
import hashlib
import json
import logging
import os
import re
import select
import shutil
import subprocess
import sys
import time
import uuid
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger("dataplane.runtime")

INIT_TIMEOUT_SECONDS = 10.0  # Lambda's init phase limit
BOOTSTRAP = Path(__file__).with_name("bootstrap.py")


@dataclass(frozen=True)
class FunctionSpec:
    """A deployed function as the emulator describes it."""

    name: str
    arn: str
    handler: str
    runtime: str
    timeout_s: float
    memory_mb: int
    environment: dict[str, str]
    code_sha256: str
    dead_letter_arn: str | None = None

    @classmethod
    def from_configuration(cls, config: dict[str, Any]) -> FunctionSpec:
        return cls(
            name=config["FunctionName"],
            arn=config["FunctionArn"],
            handler=config.get("Handler", ""),
            runtime=config.get("Runtime", ""),
            timeout_s=float(config.get("Timeout", 3)),
            memory_mb=int(config.get("MemorySize", 128)),
            environment=dict((config.get("Environment") or {}).get("Variables") or {}),
            code_sha256=config.get("CodeSha256", ""),
            dead_letter_arn=(config.get("DeadLetterConfig") or {}).get("TargetArn"),
        )


@dataclass
class InvokeResult:
    request_id: str
    ok: bool
    payload: Any = None  # the decoded response, or the error object on failure
    function_error: str | None = None  # "Unhandled" like the Invoke API's X-Amz-Function-Error
    duration_ms: float = 0.0

    @property
    def error_type(self) -> str:
        return str((self.payload or {}).get("errorType", "")) if not self.ok else ""

    @property
    def error_message(self) -> str:
        return str((self.payload or {}).get("errorMessage", "")) if not self.ok else ""


def failure(request_id: str, error_type: str, message: str) -> InvokeResult:
    return InvokeResult(
        request_id=request_id,
        ok=False,
        payload={"errorMessage": message, "errorType": error_type},
        function_error="Unhandled",
    )


def zip_sha256(path: Path) -> str:
    """The CodeSha256 Lambda reports: base64 of the zip's SHA-256."""
    return base64.b64encode(hashlib.sha256(path.read_bytes()).digest()).decode()


def find_interpreter(runtime: str) -> str:
    """The local interpreter for a Lambda runtime name such as python3.12."""
    match = re.fullmatch(r"python(\d+\.\d+)", runtime)
    if not match:
        log.warning("runtime %r is not a Python runtime; using %s", runtime, sys.executable)
        return sys.executable
    version = match.group(1)
    on_path = shutil.which(f"python{version}")
    if on_path and "/shims/" not in on_path:  # a pyenv shim fails unless that version is active
        return on_path
    pyenv_root = os.environ.get("PYENV_ROOT") or _pyenv_root()
    if pyenv_root:
        candidates = sorted(glob.glob(f"{pyenv_root}/versions/{version}*/bin/python{version}"))
        if candidates:
            return candidates[-1]
    log.warning(
        "no python%s found on PATH or under pyenv; running %s functions with %s (Python %s)",
        version,
        runtime,
        sys.executable,
        ".".join(map(str, sys.version_info[:2])),
    )
    return sys.executable


def _pyenv_root() -> str | None:
    if not shutil.which("pyenv"):
        default = Path.home() / ".pyenv"
        return str(default) if default.is_dir() else None
    out = subprocess.run(["pyenv", "root"], capture_output=True, text=True, check=False)
    return out.stdout.strip() or None


def ensure_runtime_dir(path: Path) -> Path:
    """A boto3 install standing in for the one the Lambda runtime provides (pure Python).

    Installed once with this venv's pip at the versions this venv uses; a lock keeps
    concurrent data planes from installing into the same directory at once.
    """
    import boto3
    import botocore

    marker = path / f".installed-boto3-{boto3.__version__}-botocore-{botocore.__version__}"
    if marker.exists():
        return path
    path.mkdir(parents=True, exist_ok=True)
    with open(path.parent / f".{path.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not marker.exists():
            log.info("installing boto3 %s into %s (the runtime's SDK)", boto3.__version__, path)
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "pip",
                    "install",
                    "--quiet",
                    "--disable-pip-version-check",
                    "--upgrade",
                    "--target",
                    str(path),
                    f"boto3=={boto3.__version__}",
                    f"botocore=={botocore.__version__}",
                ],
                check=True,
            )
            marker.touch()
    return path


def find_code(code_sha256: str, code_dirs: list[Path]) -> tuple[Path | None, dict[str, str]]:
    """The zip in code_dirs whose CodeSha256 is the deployed one, and what was seen."""
    seen: dict[str, str] = {}
    for directory in code_dirs:
        for candidate in sorted(directory.glob("*.zip")):
            digest = zip_sha256(candidate)
            seen[str(candidate)] = digest
            if digest == code_sha256:
                return candidate, seen
    return None, seen


def unpack(zip_path: Path, target: Path, code_sha256: str) -> Path:
    marker = target / ".dataplane-code-sha256"
    if marker.exists() and marker.read_text() == code_sha256:
        return target
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    with zipfile.ZipFile(zip_path) as archive:
        archive.extractall(target)
    marker.write_text(code_sha256)
    return target


@dataclass
class LaunchSettings:
    """What the local environment adds to every function's deployed settings."""

    aws_endpoint_url: str
    region: str
    firehose_endpoint_url: str | None = None
    environment_overrides: dict[str, dict[str, str]] = field(default_factory=dict)  # by name
    runtime_dir: Path = Path(".local/runtime")
    functions_dir: Path = Path(".local/functions")
    logs_dir: Path = Path(".local/logs")
    code_dirs: list[Path] = field(default_factory=lambda: [Path("dist")])


class Worker:
    """One warm execution environment of one function."""

    def __init__(self, spec: FunctionSpec, task_root: Path, settings: LaunchSettings) -> None:
        self.spec = spec
        self.task_root = task_root
        self.settings = settings
        self.interpreter = find_interpreter(spec.runtime)
        self.process: subprocess.Popen[bytes] | None = None
        self._requests: Any = None  # the request pipe, open while the worker runs
        self._replies_fd = -1
        self._buffer = b""
        self.cold_starts = 0

    def environment(self) -> dict[str, str]:
        spec, settings = self.spec, self.settings
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": "en_US.UTF-8",
            "TZ": ":UTC",
            "PYTHONUNBUFFERED": "1",
            "LAMBDA_TASK_ROOT": str(self.task_root),
            "LAMBDA_RUNTIME_DIR": str(settings.runtime_dir.resolve()),
            "_HANDLER": spec.handler,
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{spec.runtime}",
            "AWS_LAMBDA_FUNCTION_NAME": spec.name,
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{spec.name}",
            "AWS_LAMBDA_LOG_STREAM_NAME": f"local/[$LATEST]{uuid.uuid4().hex}",
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_REGION": settings.region,
            "AWS_DEFAULT_REGION": settings.region,
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_SESSION_TOKEN": "test",
            "AWS_ENDPOINT_URL": settings.aws_endpoint_url,
        }
        if settings.firehose_endpoint_url:
            env["AWS_ENDPOINT_URL_FIREHOSE"] = settings.firehose_endpoint_url
        env.update(spec.environment)
        env.update(settings.environment_overrides.get(spec.name, {}))
        return env

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self, request_id: str) -> InvokeResult | None:
        """Start the worker and run the init phase; an InvokeResult when init failed."""
        self.stop()
        self.settings.logs_dir.mkdir(parents=True, exist_ok=True)
        log_path = self.settings.logs_dir / f"{self.spec.name}.log"
        request_read, request_write = os.pipe()
        reply_read, reply_write = os.pipe()
        env = self.environment()
        env["_DATAPLANE_REQUEST_FD"] = str(request_read)
        env["_DATAPLANE_REPLY_FD"] = str(reply_write)
        with open(log_path, "ab") as log_file:
            self.process = subprocess.Popen(
                [self.interpreter, "-I", "-S", str(BOOTSTRAP)],
                env=env,
                cwd=self.task_root,
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                pass_fds=(request_read, reply_write),
            )
        os.close(request_read)
        os.close(reply_write)
        self._requests = os.fdopen(request_write, "wb")
        self._replies_fd = reply_read
        self._buffer = b""
        self.cold_starts += 1
        reply = self._read_reply(time.monotonic() + INIT_TIMEOUT_SECONDS)
        if reply is None:
            self.stop()
            return failure(
                request_id,
                "Runtime.ExitError",
                f"RequestId: {request_id} Error: Runtime exited during init (see {log_path})",
            )
        if reply == "timeout":
            self.stop()
            return failure(request_id, "Sandbox.Timedout", "init phase timed out after 10 s")
        if reply.get("init") != "ok":
            self.stop()
            error = dict(reply.get("error") or {})
            return InvokeResult(request_id, False, error, "Unhandled")
        return None

    def invoke(self, event: Any, request_id: str) -> InvokeResult:
        if not self.alive:
            init_failure = self.start(request_id)
            if init_failure is not None:
                return init_failure
        deadline = time.time() + self.spec.timeout_s
        request = {
            "request_id": request_id,
            "deadline_ms": deadline * 1000,
            "invoked_function_arn": self.spec.arn,
            "event": event,
        }
        began = time.monotonic()
        try:
            self._requests.write(json.dumps(request).encode() + b"\n")
            self._requests.flush()
        except (BrokenPipeError, OSError):
            self.stop()
            return failure(
                request_id, "Runtime.ExitError", f"RequestId: {request_id} Error: Runtime exited"
            )
        reply = self._read_reply(began + self.spec.timeout_s)
        elapsed_ms = (time.monotonic() - began) * 1000
        if reply == "timeout":
            self.stop()
            seconds = f"{self.spec.timeout_s:.2f}"
            message = f"RequestId: {request_id} Error: Task timed out after {seconds} seconds"
            result = failure(request_id, "Sandbox.Timedout", message)
        elif reply is None:
            code = self.process.wait(timeout=5) if self.process else None
            self.stop()
            result = failure(
                request_id,
                "Runtime.ExitError",
                f"RequestId: {request_id} Error: Runtime exited with error: exit status {code}",
            )
        elif reply.get("ok"):
            result = InvokeResult(request_id, True, json.loads(reply["payload"]))
        else:
            result = InvokeResult(request_id, False, reply.get("error"), "Unhandled")
        result.duration_ms = elapsed_ms
        return result

    def _read_reply(self, deadline: float) -> dict[str, Any] | str | None:
        """The next JSON line from the worker; "timeout" past the deadline; None on exit."""
        while b"\n" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return "timeout"
            ready, _, _ = select.select([self._replies_fd], [], [], remaining)
            if not ready:
                return "timeout"
            chunk = os.read(self._replies_fd, 1 << 20)
            if not chunk:
                return None
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        return dict(json.loads(line))

    def stop(self) -> None:
        if self.process is not None:
            if self.process.poll() is None:
                self.process.kill()
            self.process.wait()
            self.process = None
        if self._requests is not None:
            with contextlib.suppress(OSError):
                self._requests.close()
            self._requests = None
        if self._replies_fd >= 0:
            os.close(self._replies_fd)
            self._replies_fd = -1


@dataclass
class FunctionStats:
    invocations: int = 0
    errors: int = 0
    cold_starts: int = 0
    total_ms: float = 0.0


class FunctionRuntime:
    """All deployed functions, by name and ARN, each with its warm worker."""

    def __init__(self, settings: LaunchSettings) -> None:
        self.settings = settings
        self.specs: dict[str, FunctionSpec] = {}
        self.code_errors: dict[str, str] = {}
        self.workers: dict[str, Worker] = {}
        self.stats: dict[str, FunctionStats] = {}
        self.announced: dict[str, tuple[str, str, str]] = {}  # what was last logged per function

    def load(self, specs: list[FunctionSpec]) -> None:
        """Adopt the deployed configuration; restart a worker whose configuration changed."""
        ensure_runtime_dir(self.settings.runtime_dir)
        fresh = {spec.name: spec for spec in specs}
        for name, worker in list(self.workers.items()):
            if fresh.get(name) != worker.spec:
                worker.stop()
                del self.workers[name]
        self.specs = fresh
        self.code_errors = {}
        for spec in specs:
            zip_path, seen = find_code(spec.code_sha256, self.settings.code_dirs)
            if zip_path is None:
                self.code_errors[spec.name] = (
                    f"function {spec.name}: the deployed CodeSha256 {spec.code_sha256} matches no "
                    f"zip in {[str(d) for d in self.settings.code_dirs]} (seen: {seen}); "
                    "refusing to run code other than what was deployed. If dist/ was rebuilt "
                    "since, run `make up` again: it deploys the new zips and restarts the data "
                    "plane on them"
                )
                log.error("%s", self.code_errors[spec.name])
            else:
                unpack(zip_path, self.settings.functions_dir / spec.name, spec.code_sha256)
                announced = (str(zip_path), spec.handler, spec.code_sha256)
                if self.announced.get(spec.name) != announced:
                    self.announced[spec.name] = announced
                    log.info("function %s runs %s (%s)", spec.name, zip_path, spec.handler)

    def resolve(self, name_or_arn: str) -> str:
        if name_or_arn.startswith("arn:"):
            parts = name_or_arn.split(":")
            return parts[6]
        return name_or_arn

    def spec(self, name_or_arn: str) -> FunctionSpec | None:
        return self.specs.get(self.resolve(name_or_arn))

    def invoke(self, name_or_arn: str, event: Any) -> InvokeResult:
        name = self.resolve(name_or_arn)
        request_id = str(uuid.uuid4())
        stats = self.stats.setdefault(name, FunctionStats())
        stats.invocations += 1
        spec = self.specs.get(name)
        if spec is None:
            result = failure(request_id, "ResourceNotFoundException", f"Function not found: {name}")
        elif name in self.code_errors:
            result = failure(request_id, "DataPlane.CodeMismatch", self.code_errors[name])
        else:
            worker = self.workers.get(name)
            if worker is None:
                task_root = (self.settings.functions_dir / name).resolve()
                worker = self.workers[name] = Worker(spec, task_root, self.settings)
            before = worker.cold_starts
            result = worker.invoke(event, request_id)
            stats.cold_starts += worker.cold_starts - before
        stats.total_ms += result.duration_ms
        if not result.ok:
            stats.errors += 1
            log.warning("%s failed: %s: %s", name, result.error_type, result.error_message[:500])
        return result

    def close(self) -> None:
        for worker in self.workers.values():
            worker.stop()
        self.workers.clear()
