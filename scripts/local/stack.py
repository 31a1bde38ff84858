"""The local stack: moto server + MariaDB + the root Terraform stack + the local data plane.

``up`` starts what is not running yet, applies a copy of terraform/ to the emulator through
an endpoints override (as tflocal does), stores the MariaDB credentials in the emulated
secret, writes ``<state-dir>/stack.json`` and starts the data plane in the background.
Running it again is safe: running parts are kept, Terraform converges, and the data plane is
restarted only when the apply changed something (so it re-reads the deployed wiring).

``down`` stops the data plane, destroys the Terraform stack (bounded in time), stops moto and
MariaDB and removes the state directory.

With ``LOCALSTACK_ENDPOINT`` set, the stack is applied to that endpoint instead of a moto
server, and no data plane is started (LocalStack runs functions and delivery streams
itself). That path is not exercised in this project's CI.

CLI: ``python -m scripts.local.stack up|down|status|destroy [--state-dir .local]``
(``down --no-destroy``: the same without ``terraform destroy``, for a throwaway stack).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scripts.local.mariadb import MariaDBServer, install_with_apt, public_view

REPO_ROOT = Path(__file__).resolve().parents[2]
REGION = "us-east-1"
FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"}
MOTO_READY_TIMEOUT_SECONDS = 60.0
APPLY_TIMEOUT_SECONDS = 900.0
DESTROY_TIMEOUT_SECONDS = 300.0
DATAPLANE_READY_TIMEOUT_SECONDS = 60.0
STOP_TIMEOUT_SECONDS = 20.0
MOTO_SAVE_TIMEOUT_SECONDS = 180.0  # requests in flight (30 s at most), then the pickle

# Provider endpoint names (hashicorp/aws 5.x) of every service the stack may touch; each
# points at the one emulator URL, as tflocal does.
AWS_SERVICES = (
    "cloudwatch", "dynamodb", "ec2", "events", "firehose", "iam", "kms", "lambda", "logs",
    "rds", "s3", "secretsmanager", "sns", "sqs", "ssm", "sts",
)  # fmt: skip

# Root variables set for the local stack when the root stack declares them.
LOCAL_TFVARS: dict[str, Any] = {
    "region": REGION,
    "load_method": "local",
    "create_s3_load_role": False,
    "deletion_protection": False,
    "skip_final_snapshot": True,
    "bucket_force_destroy": True,
    # The copy lives in .local/tf, so paths relative to the module would miss these.
    "package_dir": str(REPO_ROOT / "dist"),
    "table_mapping_path": str(REPO_ROOT / "mappings" / "web_analytics.json"),
}
STATE_FILES = ("terraform.tfstate", "terraform.tfstate.backup", ".terraform", ".terraform.lock.hcl")
# Resources moto cannot delete (RemoveRoleFromDBCluster is not implemented): they are
# dropped from the state before destroy instead of hanging the destroy.
UNDELETABLE_UNDER_MOTO = ("aws_rds_cluster_role_association",)


class StackError(RuntimeError):
    """A step of the local stack failed; the message names the step and the log."""


@dataclass(frozen=True)
class StatePaths:
    """Where everything of one local stack lives."""

    root: Path

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def tf_dir(self) -> Path:
        return self.root / "tf"

    @property
    def mariadb_dir(self) -> Path:
        return self.root / "mariadb"

    @property
    def moto_json(self) -> Path:
        return self.root / "moto.json"

    @property
    def moto_state(self) -> Path:
        """Where moto's backends wait while it restarts (see ``restart_moto``)."""
        return self.root / "moto-state.pickle"

    @property
    def stack_json(self) -> Path:
        return self.root / "stack.json"

    @property
    def dataplane_json(self) -> Path:
        return self.root / "dataplane.json"

    @property
    def dataplane_pid(self) -> Path:
        return self.root / "dataplane.pid"


# ---- processes ----------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    with contextlib.suppress(OSError, IndexError):
        if Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
            return False
    return True


def _terminate(pid: int, timeout: float = STOP_TIMEOUT_SECONDS) -> None:
    """SIGTERM the process group the pid leads (our children run in their own sessions)."""
    if not _alive(pid):
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGTERM)
    if _exited(pid, timeout):
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def _exited(pid: int, timeout: float) -> bool:
    """Wait up to timeout for pid to exit (reaping it when it is our child)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
        if not _alive(pid):
            return True
        time.sleep(0.1)
    return False


def _spawn(command: list[str], log_file: Path, env: Mapping[str, str] | None = None) -> int:
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("ab") as log:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=REPO_ROOT,
            env=dict(env) if env is not None else None,
        )
    return process.pid


def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (loopback URL we built)
            return 200 <= response.status < 300
    except (urllib.error.URLError, OSError):
        return False


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return None
    return data if isinstance(data, dict) else None


def _write_json(path: Path, data: Mapping[str, Any], mode: int = 0o600) -> None:
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    path.chmod(mode)


# ---- moto ---------------------------------------------------------------------------------


def _moto_command(port: int, state_file: Path) -> list[str]:
    """moto server through the data plane's launcher, which switches off moto's own
    in-process Lambda delivery (it would swallow the stream records the data plane reads)
    and can restart keeping its account (``restart_moto``)."""
    return [
        sys.executable,
        "-m",
        "scripts.local.dataplane.moto_server",
        "-H",
        "127.0.0.1",
        "-p",
        str(port),
        "--state-file",
        str(state_file),
    ]


def _spawn_moto(paths: StatePaths, port: int) -> str:
    """Start the launcher on port and wait until it answers; return its URL."""
    url = f"http://127.0.0.1:{port}"
    # AWS managed policies (AmazonRDSEnhancedMonitoringRole, …) exist only when asked for.
    env = {**os.environ, "MOTO_IAM_LOAD_MANAGED_POLICIES": "true"}
    pid = _spawn(_moto_command(port, paths.moto_state), paths.logs / "moto.log", env=env)
    _write_json(paths.moto_json, {"pid": pid, "url": url})
    deadline = time.monotonic() + MOTO_READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if _http_ok(url + "/moto-api/"):
            return url
        if not _alive(pid):
            raise StackError(f"moto server exited during start; see {paths.logs / 'moto.log'}")
        time.sleep(0.2)
    raise StackError(f"moto server not ready after {MOTO_READY_TIMEOUT_SECONDS:.0f} s")


def start_moto(paths: StatePaths) -> str:
    """Start moto server on a free loopback port unless ours is running; return its URL."""
    known = _read_json(paths.moto_json)
    if known and _alive(int(known["pid"])) and _http_ok(known["url"] + "/moto-api/"):
        return str(known["url"])
    if known:  # ours but not answering: replace it rather than leave it running
        _terminate(int(known["pid"]))
    paths.moto_state.unlink(missing_ok=True)  # a new emulator starts with an empty account
    return _spawn_moto(paths, _free_port())


def stop_moto(paths: StatePaths) -> None:
    known = _read_json(paths.moto_json)
    if known:
        _terminate(int(known["pid"]))
    paths.moto_json.unlink(missing_ok=True)
    paths.moto_state.unlink(missing_ok=True)


def restart_moto(state_dir: Path, while_down: Callable[[], None] = lambda: None) -> str:
    """Restart the stack's moto server keeping its account (the "emulator restarted" fault):
    SIGUSR1 makes the launcher answer 503 to new requests, let those in flight finish, save
    every backend and exit; ``while_down`` runs while nothing listens on the port; then a new
    process on the same port loads the saved account. moto is started again even when
    ``while_down`` raises. Returns the URL (unchanged)."""
    paths = StatePaths(state_dir.resolve())
    known = _read_json(paths.moto_json)
    if not known or not _alive(int(known["pid"])):
        raise StackError(f"the stack's moto server ({paths.moto_json}) is not running")
    pid, port = int(known["pid"]), int(str(known["url"]).rsplit(":", 1)[1])
    paths.moto_state.unlink(missing_ok=True)
    os.kill(pid, signal.SIGUSR1)
    if not _exited(pid, MOTO_SAVE_TIMEOUT_SECONDS):
        raise StackError(f"moto did not save its state within {MOTO_SAVE_TIMEOUT_SECONDS} s")
    if not paths.moto_state.exists():
        raise StackError(f"moto exited without saving its state; see {paths.logs / 'moto.log'}")
    try:
        while_down()
    finally:
        url = _spawn_moto(paths, port)
    return url


# ---- terraform ----------------------------------------------------------------------------


def _terraform_env(endpoint: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(FAKE_CREDENTIALS)
    env.update(
        {
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_ENDPOINT_URL": endpoint,
            "TF_IN_AUTOMATION": "1",
            "TF_INPUT": "0",
            "CHECKPOINT_DISABLE": "1",
        }
    )
    return env


def _run_terraform(
    paths: StatePaths, args: list[str], endpoint: str, timeout: float, log_name: str
) -> str:
    log_file = paths.logs / log_name
    command = ["terraform", f"-chdir={paths.tf_dir}", *args]
    try:
        result = subprocess.run(
            command,
            env=_terraform_env(endpoint),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as error:
        raise StackError(f"terraform {args[0]} took over {timeout:.0f} s") from error
    except FileNotFoundError as error:
        raise StackError(
            "terraform is not installed (https://developer.hashicorp.com/terraform/install)"
        ) from error
    with log_file.open("a") as log:
        log.write(f"$ {' '.join(command)}\n{result.stdout}\n{result.stderr}\n")
    if result.returncode != 0:
        raise StackError(
            f"terraform {args[0]} failed (exit {result.returncode}); log {log_file}:\n"
            f"{result.stderr[-4000:] or result.stdout[-4000:]}"
        )
    return result.stdout


def _root_variables(tf_dir: Path) -> set[str]:
    names: set[str] = set()
    for tf_file in tf_dir.glob("*.tf"):
        names.update(re.findall(r'^variable\s+"([^"]+)"', tf_file.read_text(), re.MULTILINE))
    return names


def _provider_aliases(tf_dir: Path) -> list[str | None] | None:
    """The aws provider blocks of the root (None = the default one); None when there is none."""
    aliases: list[str | None] = []
    for tf_file in sorted(tf_dir.glob("*.tf")):
        if tf_file.name.endswith("override.tf"):
            continue
        text = tf_file.read_text()
        for match in re.finditer(r'^provider\s+"aws"\s*\{(.*?)^\}', text, re.MULTILINE | re.DOTALL):
            alias = re.search(r'^\s*alias\s*=\s*"([^"]+)"', match.group(1), re.MULTILINE)
            aliases.append(alias.group(1) if alias else None)
    return aliases or None


def _provider_block(endpoint: str, alias: str | None) -> str:
    endpoints = "\n".join(f'    {service:<14} = "{endpoint}"' for service in AWS_SERVICES)
    alias_line = f'  alias                       = "{alias}"\n' if alias else ""
    return (
        'provider "aws" {\n'
        f"{alias_line}"
        f'  region                      = "{REGION}"\n'
        '  access_key                  = "test"\n'
        '  secret_key                  = "test"\n'
        "  skip_credentials_validation = true\n"
        "  skip_requesting_account_id  = true\n"
        "  skip_metadata_api_check     = true\n"
        "  skip_region_validation      = true\n"
        "  s3_use_path_style           = true\n"
        "  # Fail fast on what the emulator lacks instead of retrying for minutes.\n"
        "  max_retries                 = 2\n\n"
        f"  endpoints {{\n{endpoints}\n  }}\n"
        "}\n"
    )


def prepare_terraform(
    paths: StatePaths,
    endpoint: str,
    tfvars: Mapping[str, Any] | None = None,
    mutate: Callable[[Path], None] | None = None,
) -> None:
    """Copy terraform/ into the state dir (keeping state), add the emulator override and tfvars.

    ``mutate`` may edit the copy before apply (tests use it to break the wiring on purpose).
    """
    source = REPO_ROOT / "terraform"
    if not (source / "main.tf").exists() and not list(source.glob("*.tf")):
        raise StackError("terraform/ has no root stack (*.tf) yet")
    paths.tf_dir.mkdir(parents=True, exist_ok=True)
    for entry in paths.tf_dir.iterdir():
        if entry.name in STATE_FILES:
            continue
        if entry.is_dir():
            shutil.rmtree(entry)
        else:
            entry.unlink()
    shutil.copytree(
        source,
        paths.tf_dir,
        dirs_exist_ok=True,
        ignore=shutil.ignore_patterns(
            ".terraform", ".terraform.lock.hcl", "*.tfstate*", "*.tfvars"
        ),
    )
    aliases = _provider_aliases(paths.tf_dir)
    blocks = "\n".join(_provider_block(endpoint, alias) for alias in (aliases or [None]))
    # An override file merges into existing provider blocks; without one, add a plain file.
    name = "local_override.tf" if aliases else "local_provider.tf"
    header = "# Written by scripts/local/stack.py: every AWS API goes to the local emulator.\n"
    (paths.tf_dir / name).write_text(header + blocks)

    declared = _root_variables(paths.tf_dir)
    values = {k: v for k, v in LOCAL_TFVARS.items() if k in declared}
    values.update(tfvars or {})
    _write_json(paths.tf_dir / "local.auto.tfvars.json", values, mode=0o644)
    if mutate is not None:
        mutate(paths.tf_dir)


def apply_terraform(
    paths: StatePaths, endpoint: str, *, refresh: bool = True, targets: Sequence[str] = ()
) -> bool:
    """terraform init + apply; returns whether the apply changed anything.

    ``refresh=False`` and ``targets`` (module addresses) make a quick apply of a small
    edit to a stack this process just applied (the tests' broken-wiring cases): moto
    leaves some attributes unset (DynamoDB SSE key, RDS Performance Insights), so a full
    apply always re-modifies those and waits on them."""
    init = ["init", "-input=false", "-no-color"]
    plugin_dir = os.environ.get("TF_PLUGIN_DIR")
    if plugin_dir:
        init.append(f"-plugin-dir={plugin_dir}")
    _run_terraform(paths, init, endpoint, APPLY_TIMEOUT_SECONDS, "terraform-init.log")
    output = _run_terraform(
        paths,
        [
            "apply",
            "-auto-approve",
            "-input=false",
            "-no-color",
            f"-refresh={str(refresh).lower()}",
            *(f"-target={target}" for target in targets),
        ],
        endpoint,
        APPLY_TIMEOUT_SECONDS,
        "terraform-apply.log",
    )
    return "Resources: 0 added, 0 changed, 0 destroyed" not in output


def terraform_outputs(paths: StatePaths, endpoint: str) -> dict[str, Any]:
    raw = _run_terraform(
        paths, ["output", "-json", "-no-color"], endpoint, 120, "terraform-output.log"
    )
    return {name: value.get("value") for name, value in json.loads(raw or "{}").items()}


def destroy_terraform(
    paths: StatePaths, endpoint: str, timeout: float = DESTROY_TIMEOUT_SECONDS
) -> None:
    """terraform destroy, after dropping from state what moto cannot delete."""
    state = _read_json(paths.tf_dir / "terraform.tfstate")
    if not state or not state.get("resources"):
        return
    listed = _run_terraform(paths, ["state", "list"], endpoint, 60, "terraform-destroy.log")
    stuck = [
        address
        for address in listed.split()
        if any(f"{kind}." in address for kind in UNDELETABLE_UNDER_MOTO)
    ]
    if stuck and "LOCALSTACK_ENDPOINT" not in os.environ:
        _run_terraform(paths, ["state", "rm", *stuck], endpoint, 60, "terraform-destroy.log")
    if "LOCALSTACK_ENDPOINT" not in os.environ:
        _empty_buckets_one_by_one(state, endpoint)
    _run_terraform(
        paths,
        ["destroy", "-auto-approve", "-input=false", "-no-color"],
        endpoint,
        timeout,
        "terraform-destroy.log",
    )


def _empty_buckets_one_by_one(state: dict[str, Any], endpoint: str) -> None:
    """Delete every object version of the stack's buckets with single DeleteObject calls.

    The provider empties a force_destroy bucket with DeleteObjects, which moto answers
    with a malformed 500 for some keys (seen after the operator tests' replays), failing
    the destroy; one call per version avoids it.
    """
    s3 = boto_client("s3", endpoint)
    buckets = [
        instance["attributes"]["bucket"]
        for resource in state.get("resources", [])
        if resource.get("type") == "aws_s3_bucket" and resource.get("mode") == "managed"
        for instance in resource.get("instances", [])
    ]
    for bucket in buckets:
        paginator = s3.get_paginator("list_object_versions")
        for page in paginator.paginate(Bucket=bucket):
            for entry in page.get("Versions", []) + page.get("DeleteMarkers", []):
                s3.delete_object(Bucket=bucket, Key=entry["Key"], VersionId=entry["VersionId"])


# ---- the database secret ------------------------------------------------------------------


def boto_client(service: str, endpoint: str) -> Any:
    import boto3

    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )


def store_db_secret(endpoint: str, secret_arn: str, user: str, password: str) -> None:
    """Put the MariaDB credentials where the loader looks (Aurora's managed secret shape)."""
    boto_client("secretsmanager", endpoint).put_secret_value(
        SecretId=secret_arn, SecretString=json.dumps({"username": user, "password": password})
    )


# ---- data plane ---------------------------------------------------------------------------


def start_dataplane(paths: StatePaths, restart: bool) -> dict[str, Any]:
    known = _read_json(paths.dataplane_json)
    pid = _pid_from(paths.dataplane_pid)
    if pid is not None and _alive(pid):
        if not restart and known and _http_ok(str(known.get("control_url", "")) + "/stats"):
            return known
        _terminate(pid)
    paths.dataplane_json.unlink(missing_ok=True)
    pid = _spawn(
        [
            sys.executable,
            "-m",
            "scripts.local.dataplane",
            "--state-dir",
            str(paths.root),
            "serve",
            "--dist-dir",
            str(REPO_ROOT / "dist"),
        ],
        paths.logs / "dataplane.out",
        # glibc gives each new thread (one per control request) its own malloc arena and
        # keeps their freed memory: the soak saw the data plane's RSS grow ~16 MiB per
        # 100,000 changes with no growth in live Python objects.
        env={**os.environ, "MALLOC_ARENA_MAX": "2"},
    )
    paths.dataplane_pid.write_text(f"{pid}\n")
    deadline = time.monotonic() + DATAPLANE_READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        known = _read_json(paths.dataplane_json)
        if known and _http_ok(str(known.get("control_url", "")) + "/stats"):
            return known
        if not _alive(pid):
            raise StackError(
                f"the data plane exited during start; see {paths.logs / 'dataplane.log'}"
            )
        time.sleep(0.2)
    raise StackError(
        f"the data plane did not report ready within {DATAPLANE_READY_TIMEOUT_SECONDS:.0f} s"
    )


def stop_dataplane(paths: StatePaths) -> None:
    pid = _pid_from(paths.dataplane_pid)
    if pid is None:
        known = _read_json(paths.dataplane_json)
        pid = int(known["pid"]) if known and "pid" in known else None
    if pid is not None:
        _terminate(pid)
    paths.dataplane_pid.unlink(missing_ok=True)
    paths.dataplane_json.unlink(missing_ok=True)


def _pid_from(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


# ---- MariaDB ------------------------------------------------------------------------------


def restart_mariadb(
    state_dir: Path, while_down: Callable[[], None] = lambda: None
) -> dict[str, object]:
    """Stop the stack's MariaDB and start it again on the same data directory and port (the
    "database restarted" fault); ``while_down`` runs during the outage. It is started again
    even when ``while_down`` raises; returns the connection fields (as ``stack.json``)."""
    server = MariaDBServer(StatePaths(state_dir.resolve()).mariadb_dir)
    before = server.running_connection()
    if before is None:
        raise StackError(f"the stack's MariaDB in {server.base_dir} is not running")
    server.stop()
    try:
        while_down()
    finally:
        after = server.start()
    if after.port != before.port:
        raise StackError(
            f"MariaDB came back on port {after.port}, not {before.port} (the port was taken "
            "while it was down): the deployed functions still point at the old one"
        )
    return public_view(after)


# ---- the whole stack ----------------------------------------------------------------------


def localstack_endpoint() -> str | None:
    return os.environ.get("LOCALSTACK_ENDPOINT") or None


def up(
    state_dir: Path,
    *,
    tfvars: Mapping[str, Any] | None = None,
    mutate: Callable[[Path], None] | None = None,
    start_plane: bool = True,
    refresh: bool = True,
    targets: Sequence[str] = (),
) -> dict[str, Any]:
    """Bring the whole stack up (idempotent) and return what ``stack.json`` holds."""
    paths = StatePaths(state_dir.resolve())
    paths.logs.mkdir(parents=True, exist_ok=True)
    external = localstack_endpoint()
    endpoint = external or start_moto(paths)
    install_with_apt()
    mysql = public_view(MariaDBServer(paths.mariadb_dir).start())
    prepare_terraform(paths, endpoint, tfvars=tfvars, mutate=mutate)
    changed = apply_terraform(paths, endpoint, refresh=refresh, targets=targets)
    outputs = terraform_outputs(paths, endpoint)
    secret_arn = outputs.get("db_secret_arn")
    if not secret_arn:
        raise StackError("the root stack has no db_secret_arn output to hold the DB credentials")
    store_db_secret(endpoint, secret_arn, str(mysql["user"]), str(mysql["password"]))
    stack = {
        "aws_endpoint_url": endpoint,
        "emulator": "localstack" if external else "moto",
        "region": REGION,
        "table_name": outputs.get("table_name"),
        "target_table": outputs.get("target_table"),
        "bucket_name": outputs.get("bucket_name"),
        "delivery_stream_name": outputs.get("delivery_stream_name"),
        "data_prefix": outputs.get("data_prefix"),
        "error_prefix": outputs.get("error_prefix"),
        "db_secret_arn": secret_arn,
        "mysql": mysql,
        "repo_root": str(REPO_ROOT),
        "dist_dir": str(REPO_ROOT / "dist"),
        "terraform_dir": str(paths.tf_dir),
        "terraform_outputs": outputs,
    }
    _write_json(paths.stack_json, stack)
    if start_plane and not external:
        stack["dataplane"] = start_dataplane(paths, restart=changed)
    return stack


def down(
    state_dir: Path, destroy_timeout: float = DESTROY_TIMEOUT_SECONDS, *, destroy: bool = True
) -> list[str]:
    """Stop and remove everything ``up`` started; returns the problems met (best effort).

    ``destroy=False`` skips ``terraform destroy`` on moto (whose resources live only in
    the process stopped here): a throwaway stack goes in seconds instead of minutes. With
    LocalStack the resources outlive us, so they are destroyed either way.
    """
    paths = StatePaths(state_dir.resolve())
    problems: list[str] = []
    stop_dataplane(paths)
    endpoint = localstack_endpoint()
    moto = _read_json(paths.moto_json)
    if endpoint is None and destroy and moto and _alive(int(moto["pid"])):
        endpoint = str(moto["url"])
    if endpoint is not None:
        try:
            destroy_terraform(paths, endpoint, destroy_timeout)
        except StackError as error:
            problems.append(f"terraform destroy: {error}")
    stop_moto(paths)
    MariaDBServer(paths.mariadb_dir).remove()
    shutil.rmtree(paths.root, ignore_errors=True)
    return problems


def status(state_dir: Path) -> dict[str, Any]:
    paths = StatePaths(state_dir.resolve())
    moto = _read_json(paths.moto_json)
    plane_pid = _pid_from(paths.dataplane_pid)
    mysql = MariaDBServer(paths.mariadb_dir).running_connection()
    return {
        "moto": bool(moto and _alive(int(moto["pid"]))) and moto,
        "mariadb": public_view(mysql) if mysql else False,
        "dataplane": bool(plane_pid and _alive(plane_pid)) and _read_json(paths.dataplane_json),
        "stack": _read_json(paths.stack_json),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.local.stack", description=__doc__)
    parser.add_argument("command", choices=["up", "down", "status", "destroy"])
    parser.add_argument("--state-dir", type=Path, default=REPO_ROOT / ".local")
    parser.add_argument(
        "--no-destroy",
        action="store_true",
        help="down: stop moto without terraform destroy (its resources die with it)",
    )
    args = parser.parse_args(argv)
    try:
        if args.command == "up":
            print(json.dumps(up(args.state_dir), indent=2))
        elif args.command == "down":
            for problem in down(args.state_dir, destroy=not args.no_destroy):
                print(f"warning: {problem}", file=sys.stderr)
            print("local stack removed")
        elif args.command == "destroy":
            paths = StatePaths(args.state_dir.resolve())
            moto = _read_json(paths.moto_json)
            endpoint = localstack_endpoint() or (moto and str(moto["url"]))
            if not endpoint:
                raise StackError("no emulator running")
            destroy_terraform(paths, endpoint)
        else:
            report = status(args.state_dir)
            print(json.dumps(report, indent=2, default=str))
            return 0 if report["moto"] and report["mariadb"] else 1
    except StackError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
