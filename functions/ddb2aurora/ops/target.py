"""What the commands operate on: table, bucket, prefixes, queues, functions, database.

Three sources, later ones overriding earlier ones: ``--local`` (the local stack's
``.local/stack.json`` and ``dataplane.json``), ``--stack-outputs FILE`` (the JSON of
``terraform output -json``), and explicit options or their DDB2AURORA_* environment
variables. A command asks for what it needs and gets an OpsError naming the option
when it is missing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from ddb2aurora.mapping import MappingError, TableMapping, load_mapping
from ddb2aurora.ops.aws import Aws
from ddb2aurora.ops.errors import OpsError

# Target field -> the Terraform output of the root stack that holds it.
OUTPUT_NAMES = {
    "table": "table_name",
    "stream_arn": "stream_arn",
    "bucket": "bucket_name",
    "data_prefix": "data_prefix",
    "error_prefix": "error_prefix",
    "delivery_stream": "delivery_stream_name",
    "stream_dlq_url": "stream_dead_letter_queue_url",
    "loader_dlq_url": "loader_dead_letter_queue_url",
    "stream_function": "stream_processor_function_name",
    "loader_function": "aurora_loader_function_name",
    "mapping_parameter": "table_mapping_parameter_name",
    "db_host": "cluster_endpoint",
    "db_name": "database_name",
    "db_secret_arn": "db_secret_arn",
}
# Target field -> the command-line option that sets it (for messages).
OPTION_NAMES = {
    "table": "--table",
    "bucket": "--bucket",
    "delivery_stream": "--delivery-stream",
    "stream_dlq_url": "--stream-dlq-url",
    "loader_dlq_url": "--loader-dlq-url",
    "error_prefix": "--error-prefix",
    "db_host": "--db-host",
    "db_name": "--db-name",
    "db_secret_arn": "--db-secret-arn",
    "mapping_parameter": "--mapping-parameter",
}


@dataclass
class Target:
    region: str | None = None
    table: str | None = None
    stream_arn: str | None = None
    bucket: str | None = None
    data_prefix: str | None = None
    error_prefix: str | None = None
    delivery_stream: str | None = None
    stream_dlq_url: str | None = None
    loader_dlq_url: str | None = None
    stream_function: str | None = None
    loader_function: str | None = None
    mapping_parameter: str | None = None
    mapping_file: str | None = None
    db_host: str | None = None
    db_port: int = 3306
    db_name: str | None = None
    db_secret_arn: str | None = None
    db_tls_mode: str = "required"
    db_ca_bundle: str | None = None
    # the local stack only
    local: bool = False
    endpoint_url: str | None = None
    firehose_endpoint_url: str | None = None
    control_url: str | None = None
    local_mysql: dict[str, Any] | None = None
    _aws: Aws | None = field(default=None, repr=False)

    def require(self, name: str) -> str:
        value = getattr(self, name)
        if not value:
            option = OPTION_NAMES.get(name, f"--{name.replace('_', '-')}")
            raise OpsError(
                f"no {name.replace('_', ' ')} known: pass {option}, --stack-outputs FILE "
                "(from `terraform output -json`), or --local"
            )
        return str(value)

    @property
    def aws(self) -> Aws:
        if self._aws is None:
            endpoints: dict[str, str] = {}
            if self.endpoint_url:
                endpoints["*"] = self.endpoint_url
            if self.firehose_endpoint_url:
                endpoints["firehose"] = self.firehose_endpoint_url
            self._aws = Aws(self.region, endpoints, local=self.local)
        return self._aws

    def error_prefix_root(self) -> str:
        """The fixed part of the error prefix (before its first ``!{…}`` expression)."""
        root = self.require("error_prefix").split("!{", 1)[0]
        if not root:
            raise OpsError(
                f"the error prefix {self.error_prefix!r} has no fixed leading part, so its "
                "objects cannot be told from delivered data: pass --error-prefix errors/"
            )
        return root

    def data_prefix_root(self) -> str:
        return (self.data_prefix or "data/").split("!{", 1)[0]

    def mapping(self) -> TableMapping:
        """The table mapping: --mapping FILE, else the deployed SSM parameter."""
        try:
            if self.mapping_file:
                return load_mapping(Path(self.mapping_file).read_text("utf-8"))
            name = self.require("mapping_parameter")
            response = self.aws.client("ssm").get_parameter(Name=name, WithDecryption=True)
            return load_mapping(response["Parameter"]["Value"])
        except MappingError as error:
            raise OpsError(f"the table mapping is invalid: {error}") from error
        except OSError as error:
            raise OpsError(f"cannot read the mapping file: {error}") from error


def _read_json(path: Path, what: str) -> Any:
    try:
        return json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        raise OpsError(f"{what} {path} does not exist") from None
    except (OSError, ValueError) as error:
        raise OpsError(f"cannot read {what} {path}: {error}") from error


def apply_outputs(target: Target, outputs: dict[str, Any]) -> None:
    """Fill fields from Terraform outputs (plain values or ``{"value": …}`` entries)."""
    for name, output in OUTPUT_NAMES.items():
        value = outputs.get(output)
        if isinstance(value, dict) and "value" in value:
            value = value["value"]
        if value:
            setattr(target, name, value)


def from_local(state_dir: Path) -> Target:
    stack = _read_json(state_dir / "stack.json", "the local stack's state")
    target = Target(local=True, region=stack.get("region"))
    apply_outputs(target, stack.get("terraform_outputs") or {})
    apply_outputs(target, stack)
    target.endpoint_url = stack.get("aws_endpoint_url")
    target.local_mysql = stack.get("mysql")
    plane_file = state_dir / "dataplane.json"
    if plane_file.exists():
        plane = _read_json(plane_file, "the data plane's state")
        target.firehose_endpoint_url = plane.get("firehose_endpoint_url")
        target.control_url = plane.get("control_url")
    return target


def resolve(
    *, local_state: Path | None, outputs_file: Path | None, overrides: dict[str, Any]
) -> Target:
    target = from_local(local_state) if local_state is not None else Target()
    if outputs_file is not None:
        apply_outputs(target, _read_json(outputs_file, "the stack outputs file"))
    known = {f.name for f in fields(Target)}
    for name, value in overrides.items():
        if value is not None and name in known:
            setattr(target, name, value)
    return target
