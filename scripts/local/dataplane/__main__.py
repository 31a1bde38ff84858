"""python -m scripts.local.dataplane serve|drain|stats|inject|reload [--state-dir .local]"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any


def call(
    state_dir: Path, method: str, path: str, body: dict[str, Any] | None, timeout: float
) -> Any:
    info_path = state_dir / "dataplane.json"
    if not info_path.exists():
        raise SystemExit(f"the data plane is not running ({info_path} is missing); run `make up`")
    url = json.loads(info_path.read_text())["control_url"] + path
    data = json.dumps(body or {}).encode() if method == "POST" else None
    request = urllib.request.Request(url, data=data, method=method)  # noqa: S310 - http loopback
    request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - loopback
            return json.loads(response.read())
    except urllib.error.HTTPError as error:
        raise SystemExit(f"data plane {path} failed: {error.read().decode()}") from error
    except urllib.error.URLError as error:
        raise SystemExit(f"cannot reach the data plane at {url}: {error.reason}") from error


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.local.dataplane")
    parser.add_argument("--state-dir", type=Path, default=Path(".local"))
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the data plane (reads <state>/stack.json)")
    serve.add_argument("--dist-dir", type=Path, action="append", help="where the zips are (dist)")
    serve.add_argument("--poll-interval", type=float, default=0.2)
    drain = commands.add_parser("drain", help="process everything pending; exit 1 if stuck/failed")
    drain.add_argument("--timeout", type=float, default=300.0)
    commands.add_parser("stats", help="print the counters as JSON")
    commands.add_parser("reload", help="re-read the deployed configuration")
    inject = commands.add_parser("inject", help="fault injection for tests (JSON spec)")
    inject.add_argument("spec")
    args = parser.parse_args(argv)
    state_dir: Path = args.state_dir

    if args.command == "serve":
        from .control import serve as run

        (state_dir / "logs").mkdir(parents=True, exist_ok=True)
        logging.basicConfig(
            filename=state_dir / "logs" / "dataplane.log",
            level=logging.INFO,
            format="%(asctime)s %(levelname)s %(name)s %(message)s",
        )
        return run(state_dir, args.dist_dir or [Path("dist")], args.poll_interval)
    if args.command == "drain":
        report = call(state_dir, "POST", "/drain", {"timeout": args.timeout}, args.timeout + 60)
        print(json.dumps(report, indent=2))
        if not report["ok"]:
            for reason in report["reasons"]:
                print(f"drain: {reason}", file=sys.stderr)
            return 1
        return 0
    if args.command == "stats":
        print(json.dumps(call(state_dir, "GET", "/stats", None, 30), indent=2))
        return 0
    if args.command == "reload":
        print(json.dumps(call(state_dir, "POST", "/reload", {}, 120), indent=2))
        return 0
    if args.command == "inject":
        print(json.dumps(call(state_dir, "POST", "/inject", json.loads(args.spec), 30), indent=2))
        return 0
    return 2


if __name__ == "__main__":
    sys.exit(main())
