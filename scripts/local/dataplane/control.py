"""`serve`: the data plane as a background process with an HTTP control API on loopback.

POST /drain {"timeout": s} -> the drain report; GET /stats; POST /inject {...};
POST /reload. Writes <state>/dataplane.json {pid, control_url, firehose_endpoint_url}.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from .core import DataPlane

log = logging.getLogger("dataplane.control")

RELOAD_EVERY_S = 15.0


def control_server(plane: DataPlane) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _reply(self, status: int, body: Any) -> None:
            payload = json.dumps(body, default=str).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def _body(self) -> dict[str, Any]:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            return dict(json.loads(raw)) if raw.strip() else {}

        def do_GET(self) -> None:
            if self.path == "/stats":  # counters only: readable while a drain holds the lock
                self._reply(200, plane.stats())
            else:
                self._reply(404, {"error": f"no such path {self.path}"})

        def do_POST(self) -> None:
            try:
                body = self._body()
                if self.path == "/drain":
                    self._reply(200, plane.drain(float(body.get("timeout", 300))))
                elif self.path == "/inject":
                    self._reply(200, plane.inject(body))
                elif self.path == "/reload":
                    self._reply(200, plane.reload())
                else:
                    self._reply(404, {"error": f"no such path {self.path}"})
            except Exception as error:
                log.exception("control request %s failed", self.path)
                self._reply(500, {"error": f"{type(error).__name__}: {error}"})

        def log_message(self, format: str, *args: Any) -> None:
            log.debug(format, *args)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    return server


def serve(state_dir: Path, code_dirs: list[Path], poll_interval_s: float) -> int:
    state_dir.mkdir(parents=True, exist_ok=True)
    plane = DataPlane.from_stack(state_dir, code_dirs).start()
    server = control_server(plane)
    threading.Thread(target=server.serve_forever, name="control", daemon=True).start()
    host, port = server.server_address[:2]
    info = {
        "pid": os.getpid(),
        "control_url": f"http://{host}:{port}",
        "firehose_endpoint_url": plane.firehose_api.url,
    }
    info_path = state_dir / "dataplane.json"
    info_path.write_text(json.dumps(info, indent=2) + "\n")
    log.info("serving: %s", info)

    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    signal.signal(signal.SIGINT, lambda *_: stopping.set())
    last_reload = time.monotonic()
    try:
        while not stopping.is_set():
            try:
                if time.monotonic() - last_reload > RELOAD_EVERY_S:
                    plane.reload()
                    last_reload = time.monotonic()
                busy = plane.step()
            except Exception:
                log.exception("data plane step failed; continuing")
                busy = False
            if not busy:
                stopping.wait(poll_interval_s)
    finally:
        log.info("stopping: flushing buffers and stopping workers")
        server.shutdown()
        plane.close(flush=True)
        info_path.unlink(missing_ok=True)
    return 0
