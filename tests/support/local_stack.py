"""How tests reach the session's shared local stack (the ``shared_local_stack`` fixture in
tests/conftest.py): its AWS clients on moto, the data plane's loopback control endpoint, the
operator CLI run as an on-call engineer runs it, and the MariaDB standing in for Aurora.

Each test module wraps the session's stack in a module-scoped ``stack`` fixture,
``LocalStack.of(shared_local_stack)``; helpers only one module needs stay in that module.
"""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scripts.local import stack as local_stack
from scripts.local.mariadb import connect_view

REPO_ROOT = Path(__file__).resolve().parents[2]
DRAIN_TIMEOUT_SECONDS = 300
CLI_TIMEOUT_SECONDS = 900
CONTROL_TIMEOUT_SECONDS = 600
Key = tuple[str, str]  # (page_id, activity_dt) as DynamoDB holds them


@dataclass(frozen=True)
class LocalStack:
    state_dir: Path
    info: dict[str, Any]

    @classmethod
    def of(cls, shared_local_stack: Any) -> LocalStack:
        """The handle on the session fixture's stack (its state_dir and `up()`'s info)."""
        return cls(shared_local_stack.state_dir, shared_local_stack.info)

    @property
    def table(self) -> str:
        return str(self.info["table_name"])

    @property
    def bucket(self) -> str:
        return str(self.info["bucket_name"])

    @property
    def outputs(self) -> dict[str, Any]:
        return dict(self.info["terraform_outputs"])

    def client(self, service: str) -> Any:
        return local_stack.boto_client(service, self.info["aws_endpoint_url"])

    # ---- the data plane ----------------------------------------------------------------

    def control(
        self,
        path: str,
        body: dict[str, Any] | None = None,
        timeout: float = CONTROL_TIMEOUT_SECONDS,
    ) -> Any:
        """A call to the data plane's control endpoint (POST with a body, else GET)."""
        url = json.loads((self.state_dir / "dataplane.json").read_text())["control_url"] + path
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(  # noqa: S310 - loopback control endpoint
            url, data=data, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=timeout) as reply:  # noqa: S310 - loopback
            return json.loads(reply.read() or b"null")

    def drain(self, timeout: float = DRAIN_TIMEOUT_SECONDS) -> dict[str, Any]:
        """Process everything pending; the report says ``ok`` and the ``reasons`` it is not
        (each failed load is reported by one drain only)."""
        return dict(self.control("/drain", {"timeout": timeout}, timeout=timeout + 120))

    def drain_with_cli(self) -> subprocess.CompletedProcess[str]:
        """The same drain through `python -m scripts.local.dataplane drain` (exit 1 if
        something is stuck or failed), as the Makefile and docs run it."""
        return subprocess.run(
            [
                sys.executable, "-m", "scripts.local.dataplane", "--state-dir", str(self.state_dir),
                "drain", "--timeout", str(DRAIN_TIMEOUT_SECONDS),
            ],
            capture_output=True,
            text=True,
            cwd=REPO_ROOT,
            check=False,
        )  # fmt: skip

    def stats(self) -> dict[str, Any]:
        return dict(self.control("/stats"))

    # ---- the operator CLI --------------------------------------------------------------

    def cli_command(self, *args: str) -> list[str]:
        """`ddb2aurora <args> --local` against this stack."""
        return [
            sys.executable, "-m", "ddb2aurora.ops.cli", *args,
            "--local", "--state-dir", str(self.state_dir),
        ]  # fmt: skip

    def cli(
        self, *args: str, timeout: float = CLI_TIMEOUT_SECONDS
    ) -> subprocess.CompletedProcess[str]:
        """`ddb2aurora <args> --local` as a subprocess, the way an operator runs it."""
        return subprocess.run(
            self.cli_command(*args), capture_output=True, text=True, timeout=timeout, check=False
        )

    def cli_json(
        self, *args: str, expect: int = 0, timeout: float = CLI_TIMEOUT_SECONDS
    ) -> dict[str, Any]:
        """`ddb2aurora <args> --local --json`; its exit status must be ``expect``."""
        result = self.cli(*args, "--json", timeout=timeout)
        assert result.returncode == expect, (
            f"ddb2aurora {' '.join(args)}: exit {result.returncode}, expected {expect}\n"
            f"{result.stdout}\n{result.stderr}"
        )
        return dict(json.loads(result.stdout))

    # ---- DynamoDB, SQS and the database --------------------------------------------------

    def write(
        self, puts: Sequence[dict[str, Any]] = (), deletes: Sequence[dict[str, Any]] = ()
    ) -> None:
        """One PutItem per item, then one DeleteItem per key, in order (DynamoDB JSON)."""
        dynamodb = self.client("dynamodb")
        for item in puts:
            dynamodb.put_item(TableName=self.table, Item=item)
        for key in deletes:
            dynamodb.delete_item(TableName=self.table, Key=key)

    def queue_depth(self, output: str) -> int:
        """Messages in the queue the Terraform output names, visible or in flight."""
        attributes = self.client("sqs").get_queue_attributes(
            QueueUrl=self.outputs[output],
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]) + int(
            attributes["ApproximateNumberOfMessagesNotVisible"]
        )

    def sql(self, statement: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """One statement on a fresh autocommit connection to the database (its rows)."""
        connection = connect_view(self.info["mysql"], autocommit=True)
        try:
            with connection.cursor() as cursor:
                cursor.execute(statement, tuple(args))
                return list(cursor.fetchall())
        finally:
            connection.close()

    def live_keys(self, prefix: str) -> set[Key]:
        """The keys of the rows under ``/<prefix>/`` that are not deleted, spelled as
        DynamoDB holds them."""
        rows = self.sql(
            "SELECT page_id, DATE_FORMAT(activity_dt, '%%Y-%%m-%%dT%%H:%%i:%%s.%%f')"
            " FROM web_analytics WHERE _deleted_at IS NULL AND page_id LIKE %s",
            (f"/{prefix}/%",),
        )
        return {(page, stamp[:23] + "Z") for page, stamp in rows}
