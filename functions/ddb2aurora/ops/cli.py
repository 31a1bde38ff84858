"""``ddb2aurora``: the operator's command line. ``ddb2aurora <command> --help`` explains each.

Exit codes: 0 all good; 1 findings (drift, something not replayed, unhealthy status);
2 an error the operator must fix (missing permission or resource, bad option);
130 interrupted (a backfill resumes from its checkpoint).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pymysql
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from ddb2aurora.ops import backfill, replay, status, verify
from ddb2aurora.ops.database import connect
from ddb2aurora.ops.errors import (
    EXIT_FINDINGS,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_OPERATOR,
    OpsError,
)
from ddb2aurora.ops.target import Target, resolve

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

# option -> (Target field, environment variable)
TARGET_OPTIONS = {
    "--region": ("region", "AWS_REGION"),
    "--table": ("table", "DDB2AURORA_TABLE"),
    "--bucket": ("bucket", "DDB2AURORA_BUCKET"),
    "--delivery-stream": ("delivery_stream", "DDB2AURORA_DELIVERY_STREAM"),
    "--stream-dlq-url": ("stream_dlq_url", "DDB2AURORA_STREAM_DLQ_URL"),
    "--loader-dlq-url": ("loader_dlq_url", "DDB2AURORA_LOADER_DLQ_URL"),
    "--error-prefix": ("error_prefix", "DDB2AURORA_ERROR_PREFIX"),
    "--stream-function": ("stream_function", "DDB2AURORA_STREAM_FUNCTION"),
    "--mapping": ("mapping_file", "DDB2AURORA_MAPPING"),
    "--mapping-parameter": ("mapping_parameter", "DDB2AURORA_MAPPING_PARAMETER"),
    "--db-host": ("db_host", "DDB2AURORA_DB_HOST"),
    "--db-name": ("db_name", "DDB2AURORA_DB_NAME"),
    "--db-secret-arn": ("db_secret_arn", "DDB2AURORA_DB_SECRET_ARN"),
    "--db-ca-bundle": ("db_ca_bundle", "DDB2AURORA_DB_CA_BUNDLE"),
}


def _common() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    where = common.add_argument_group("what to operate on")
    where.add_argument(
        "--local",
        action="store_true",
        help="the local stack: read <state-dir>/stack.json (endpoints, names, database)",
    )
    where.add_argument("--state-dir", type=Path, default=Path(".local"), help="default .local")
    where.add_argument(
        "--stack-outputs",
        type=Path,
        metavar="FILE",
        default=os.environ.get("DDB2AURORA_STACK_OUTPUTS"),
        help="names from `terraform output -json > FILE` of the root stack",
    )
    for option, (field, variable) in TARGET_OPTIONS.items():
        where.add_argument(
            option, dest=field, default=os.environ.get(variable), help=f"(env {variable})"
        )
    where.add_argument(
        "--db-port", type=int, default=int(os.environ.get("DDB2AURORA_DB_PORT", "3306"))
    )
    where.add_argument(
        "--db-tls-mode",
        choices=("required", "verify-identity", "disabled"),
        default=os.environ.get("DDB2AURORA_DB_TLS_MODE", "required"),
    )
    common.add_argument("--json", action="store_true", help="print one JSON document (scripts)")
    return common


def build_parser() -> argparse.ArgumentParser:
    common = _common()
    parser = argparse.ArgumentParser(
        prog="ddb2aurora",
        description="Operate a DynamoDB → Aurora MySQL replication: backfill, verify, "
        "replay, status.",
        epilog="Exit codes: 0 good, 1 findings, 2 operator error, 130 interrupted.",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    fill = commands.add_parser(
        "backfill",
        parents=[common],
        help="load the items that existed before the stream (seq 0: streamed changes win)",
        description=backfill.__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    fill.add_argument("--segments", type=int, default=4, help="parallel Scan segments (4)")
    fill.add_argument(
        "--read-share",
        type=float,
        default=0.5,
        help="share of the table's provisioned read capacity to use (0.5)",
    )
    fill.add_argument(
        "--max-rcu",
        type=float,
        help="read capacity units per second at most (required for on-demand)",
    )
    fill.add_argument("--page-size", type=int, default=500, help="items per Scan page (500)")
    fill.add_argument(
        "--checkpoint", type=Path, help="checkpoint file (default ddb2aurora-backfill-<table>.json)"
    )
    fill.add_argument("--restart", action="store_true", help="ignore an existing checkpoint")
    fill.add_argument(
        "--export",
        metavar="S3_URI",
        help="read a DynamoDB full export (DYNAMODB_JSON) instead of scanning: "
        "s3://bucket/prefix/AWSDynamoDB/<export id>/",
    )

    check = commands.add_parser(
        "verify",
        parents=[common],
        help="compare DynamoDB with the database; exit 1 on drift",
        description=verify.__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    check.add_argument("--sample", type=int, metavar="N", help="check N random rows each way")
    check.add_argument("--segments", type=int, default=4, help="parallel Scan segments (4)")
    check.add_argument("--read-share", type=float, help="limit the scan (as backfill)")
    check.add_argument("--max-rcu", type=float, help="limit the scan (as backfill)")
    check.add_argument(
        "--recheck-after",
        type=float,
        default=2.0,
        metavar="SECONDS",
        help="re-read drifting keys after this delay, so changes in flight "
        "settle (2; -1: no re-check)",
    )
    check.add_argument("--show", type=int, default=10, help="keys listed per category (10)")

    again = commands.add_parser(
        "replay",
        help="re-drive what a dead-letter path holds",
        description=replay.__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    kinds = again.add_subparsers(dest="kind", required=True)
    stream_dlq = kinds.add_parser(
        "stream-dlq", parents=[common], help="re-read failed stream batches from the shard"
    )
    loader_dlq = kinds.add_parser(
        "loader-dlq", parents=[common], help="re-drive S3 objects the loader failed on"
    )
    loader_dlq.add_argument(
        "--wait",
        type=float,
        default=300,
        metavar="SECONDS",
        help="how long to wait for each re-driven object to load (300)",
    )
    errors = kinds.add_parser(
        "errors", parents=[common], help="re-put records under the Firehose error prefix"
    )
    errors.add_argument(
        "--delete",
        action="store_true",
        help="delete replayed objects instead of moving them to replayed/",
    )
    for kind in (stream_dlq, loader_dlq, errors):
        kind.add_argument("--max", type=int, metavar="N", help="at most N messages/objects")

    commands.add_parser("status", parents=[common], help="one screen of health")
    return parser


def target_from(args: argparse.Namespace) -> Target:
    overrides = {field: getattr(args, field) for field, _ in TARGET_OPTIONS.values()}
    overrides["db_port"] = args.db_port if args.db_port != 3306 or not args.local else None
    overrides["db_tls_mode"] = args.db_tls_mode
    return resolve(
        local_state=args.state_dir if args.local else None,
        outputs_file=args.stack_outputs,
        overrides=overrides,
    )


class ProgressLines:
    """Progress where no terminal shows a bar (a CI log, a cron mail, ``2> file``): one plain
    line on stderr at most every ``every_s`` seconds, and one at the end."""

    def __init__(
        self,
        description: str,
        write: Callable[[str], None],
        clock: Callable[[], float],
        every_s: float = 30.0,
    ) -> None:
        self.description, self.write, self.clock, self.every_s = description, write, clock, every_s
        self.done, self.total = 0, 0
        self.last = clock()

    def advance(self, count: int) -> None:
        self.done += count
        if self.clock() - self.last >= self.every_s:
            self.report()

    def set_total(self, total: int) -> None:
        self.total = total

    def report(self) -> None:
        self.last = self.clock()
        share = f" ({100 * self.done / self.total:.0f}%)" if self.total else ""
        of = f" of {self.total:,}" if self.total else ""
        self.write(f"{self.description}: {self.done:,}{of}{share}")


@contextmanager
def progress_bar(
    description: str, enabled: bool
) -> Iterator[tuple[Callable[[int], None], Callable[[int], None]]]:
    """(advance, set_total): a rich progress bar on a terminal's stderr (off for --json);
    plain lines every 30 s when stderr is not a terminal, --json or not (stdout stays the
    JSON document), so that long runs show progress in logs too."""
    if not err.is_terminal:
        lines = ProgressLines(
            description, lambda line: print(line, file=sys.stderr, flush=True), time.monotonic
        )
        yield lines.advance, lines.set_total
        lines.report()
        return
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err,
        disable=not enabled,
    ) as bar:
        task = bar.add_task(description, total=None)

        def advance(count: int) -> None:
            bar.advance(task, count)

        def set_total(total: int) -> None:
            bar.update(task, total=total or None)

        yield advance, set_total


def emit(args: argparse.Namespace, document: dict[str, Any], lines: Sequence[str]) -> None:
    if args.json:
        print(json.dumps(document, indent=2, default=str))
    else:
        for line in lines:
            out.print(line, highlight=False, markup=False)


# ---- commands ---------------------------------------------------------------------------


def cmd_backfill(args: argparse.Namespace, target: Target) -> int:
    table = target.require("table")
    options = backfill.BackfillOptions(
        checkpoint=args.checkpoint or Path(f"ddb2aurora-backfill-{table}.json"),
        segments=args.segments,
        read_share=args.read_share,
        max_rcu=args.max_rcu,
        page_size=args.page_size,
        restart=args.restart,
    )
    if options.segments < 1:
        raise OpsError("--segments must be at least 1")
    with progress_bar(f"backfill {table}", not args.json) as (advance, set_total):
        if args.export:
            report = backfill.backfill_from_export(target, args.export, options, advance, set_total)
        else:
            report = backfill.backfill_from_scan(target, options, advance, set_total)
    lines = [
        f"backfill of {table} from {report.source}: {report.items_sent} items sent"
        + (" (resumed)" if report.resumed else ""),
        f"checkpoint: {report.checkpoint}",
    ]
    if report.too_large:
        lines.append(f"{len(report.too_large)} items exceed Firehose's record limit, not sent:")
        lines += [f"  {keys}" for keys in report.too_large[:20]]
    if report.interrupted:
        lines.append("interrupted: run the same command again to resume from the checkpoint")
    elif report.complete:
        lines.append(
            "complete: the records flow through Firehose, transform and loader now; "
            "run `ddb2aurora verify` once they are loaded"
        )
    emit(args, report.as_dict(), lines)
    if report.interrupted:
        return EXIT_INTERRUPTED
    return EXIT_FINDINGS if report.too_large else EXIT_OK


def cmd_verify(args: argparse.Namespace, target: Target) -> int:
    connection = connect(target)
    try:
        with progress_bar("verify", not args.json) as (advance, set_total):
            result = verify.run_verify(
                target,
                connection,
                sample=args.sample,
                segments=args.segments,
                read_share=args.read_share,
                max_rcu=args.max_rcu,
                recheck_after=args.recheck_after,
                progress=advance,
                on_total=set_total,
            )
    finally:
        connection.close()
    emit(args, result.as_dict(), verify.describe(result, args.show))
    return EXIT_OK if result.ok else EXIT_FINDINGS


def cmd_replay(args: argparse.Namespace, target: Target) -> int:
    with progress_bar(f"replay {args.kind}", not args.json) as (advance, set_total):
        if args.kind == "stream-dlq":
            report = replay.replay_stream_dlq(target, args.max, advance)
        elif args.kind == "loader-dlq":
            connection = connect(target)
            try:
                report = replay.replay_loader_dlq(target, connection, args.max, args.wait, advance)
            finally:
                connection.close()
        else:
            report = replay.replay_errors(target, args.delete, args.max, advance, set_total)
    document = report.as_dict()
    lines = [
        f"replay {args.kind}: "
        + (", ".join(f"{n} {s}" for s, n in document["counts"].items()) or "nothing to replay")
    ]
    lines += [f"  {o.status}: {o.source}: {o.detail}" for o in report.outcomes if not o.ok]
    emit(args, document, lines)
    return EXIT_OK if report.ok else EXIT_FINDINGS


def cmd_status(args: argparse.Namespace, target: Target) -> int:
    document = status.collect(target, lambda: connect(target))
    document["healthy"] = status.healthy(document)
    if args.json:
        print(json.dumps(document, indent=2, default=str))
    else:
        table = Table(title="ddb2aurora status", show_header=False)
        for name, value in document.items():
            table.add_row(name.replace("_", " "), _cell(value))
        out.print(table)
    return EXIT_OK if document["healthy"] else EXIT_FINDINGS


def _cell(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k}={_cell(v)}" for k, v in value.items() if v is not None)
    return str(value)


COMMANDS: dict[str, Callable[[argparse.Namespace, Target], int]] = {
    "backfill": cmd_backfill,
    "verify": cmd_verify,
    "replay": cmd_replay,
    "status": cmd_status,
}


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args, target_from(args))
    except OpsError as error:
        err.print(f"ddb2aurora {args.command}: {error}", highlight=False, markup=False)
        return error.exit_code
    except pymysql.err.Error as error:
        err.print(f"ddb2aurora {args.command}: database error: {error}", highlight=False)
        return EXIT_OPERATOR
    except KeyboardInterrupt:
        err.print(f"ddb2aurora {args.command}: interrupted")
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
