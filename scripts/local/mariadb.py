"""A private MariaDB server on loopback: the local stand-in for Aurora MySQL.

Each server lives in one directory of its own (data, config, TLS material, socket, pid
file, log, and ``connection.json`` with the credentials), listens on 127.0.0.1 on a free
port, and never touches a system-wide server. Starting an already running server is a
no-op that returns its connection; starting a stopped one reuses its data and credentials.

Server settings and why:
- ``local_infile=ON``: the ``local`` load method streams objects with LOAD DATA LOCAL INFILE.
- ``character-set-server=utf8mb4`` with ``utf8mb4_unicode_ci``: case-insensitive like
  Aurora MySQL 3's default (``utf8mb4_0900_ai_ci``, which MariaDB lacks), so DDL that relies
  on the server default for key columns misbehaves here as it would on Aurora.
- default (strict) ``sql_mode``: a value that does not fit fails instead of being truncated.
- TLS with a self-signed certificate (made by ``openssl``), so loaders configured with
  ``DB_TLS_MODE=required`` connect encrypted; ``ca.pem`` serves ``verify-identity`` too.
- small InnoDB buffer and ``innodb_flush_log_at_trx_commit=2``: test speed, not durability.

CLI: ``python -m scripts.local.mariadb start --dir DIR`` prints the connection JSON;
``python -m scripts.local.mariadb stop --dir DIR`` stops the server (the data stays).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pymysql

INSTALL_HINT = "apt-get install mariadb-server (Debian/Ubuntu), then retry"
# Debian installs mariadbd in /usr/sbin, which is not on every user's PATH.
_EXTRA_PATH = ("/usr/sbin", "/usr/local/sbin", "/sbin")
# A Unix socket path must fit in sun_path (108 bytes on Linux, with the NUL).
_MAX_SOCKET_PATH = 100
READY_TIMEOUT_SECONDS = 60.0
STOP_TIMEOUT_SECONDS = 30.0
PORT_ATTEMPTS = 3


class MariaDBError(RuntimeError):
    """The server cannot be installed, started or reached; the message says why."""


@dataclass(frozen=True)
class Connection:
    """What a client needs to reach the server (``connection.json``)."""

    host: str
    port: int
    user: str
    password: str
    database: str
    socket: str
    ssl_ca: str
    admin_user: str
    admin_password: str
    pid: int


def _find_program(name: str) -> str:
    search_path = os.pathsep.join([os.environ.get("PATH", ""), *_EXTRA_PATH])
    found = shutil.which(name, path=search_path)
    if found is None:
        raise MariaDBError(f"{name} is not installed: {INSTALL_HINT}")
    return found


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # As a server binds: a port with connections in TIME_WAIT is free for it.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child of ours still answers signal 0; it is not running.
    with contextlib.suppress(OSError):
        stat = Path(f"/proc/{pid}/stat").read_text()
        if stat.rsplit(")", 1)[1].split()[0] == "Z":
            return False
    return True


def install_with_apt() -> None:
    """Install MariaDB (and openssl) from the distribution when missing: what ``make up``
    does for a newcomer on a fresh Debian/Ubuntu machine. Needs root and apt-get."""
    missing = [
        package
        for program, package in (
            ("mariadbd", "mariadb-server"),
            ("mariadb-install-db", "mariadb-server"),
            ("openssl", "openssl"),
        )
        if shutil.which(program, path=os.pathsep.join([os.environ.get("PATH", ""), *_EXTRA_PATH]))
        is None
    ]
    if not missing:
        return
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise MariaDBError(f"{', '.join(sorted(set(missing)))} missing: {INSTALL_HINT}")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    packages = sorted({*missing, "mariadb-client"} if "mariadb-server" in missing else missing)
    print(f"installing {' '.join(packages)} with apt-get …", file=sys.stderr)
    for command in (
        ["apt-get", "update", "-qq"],
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *packages],
    ):
        result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise MariaDBError(f"{' '.join(command)} failed:\n{result.stderr[-2000:]}")


class MariaDBServer:
    """One MariaDB server whose whole state lives in ``base_dir``."""

    def __init__(self, base_dir: Path | str, database: str = "ddb2aurora", user: str = "app"):
        self.base_dir = Path(base_dir).resolve()
        self.database = database
        self.user = user
        self.data_dir = self.base_dir / "data"
        self.tls_dir = self.base_dir / "tls"
        self.config_file = self.base_dir / "my.cnf"
        self.pid_file = self.base_dir / "mariadbd.pid"
        self.tmp_dir = self.base_dir / "tmp"
        self.log_file = self.base_dir / "mariadbd.log"
        self.state_file = self.base_dir / "connection.json"
        self._process: subprocess.Popen[bytes] | None = None

    # ---- public API -------------------------------------------------------------------

    def start(self) -> Connection:
        """Start the server (or find it running) and return how to connect to it."""
        mariadbd = _find_program("mariadbd")
        install_db = _find_program("mariadb-install-db")
        running = self.running_connection()
        if running is not None:
            return running
        self.base_dir.mkdir(parents=True, exist_ok=True)
        self.tmp_dir.mkdir(exist_ok=True)
        previous = self._read_state()
        fresh = not (self.data_dir / "mysql").is_dir()
        if fresh:
            shutil.rmtree(self.data_dir, ignore_errors=True)
            self._make_tls_material()
        port = previous.port if previous and _port_is_free(previous.port) else _free_port()
        socket_path = self._socket_path(previous)
        self._write_config(port, socket_path)
        if fresh:
            self._install(install_db)
        pid, port = self._launch_listening(mariadbd, port, socket_path)
        if fresh:
            connection = self._provision(pid, port, socket_path)
        elif previous is not None:  # _read_state refuses a data dir without its credentials
            connection = Connection(**{**asdict(previous), "port": port, "pid": pid})
        else:
            raise MariaDBError(f"no credentials for the existing data in {self.data_dir}")
        self._write_state(connection)
        self._wait_ready(connection)
        return connection

    def stop(self) -> None:
        """Stop the server cleanly (SIGTERM, then SIGKILL after a grace period)."""
        pid = self._pid()
        if pid is None or not _process_alive(pid):
            self.pid_file.unlink(missing_ok=True)
            return
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self._process is not None:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self._process.wait(timeout=0.1)
            if not _process_alive(pid):
                break
            time.sleep(0.1)
        else:
            os.kill(pid, signal.SIGKILL)
        self.pid_file.unlink(missing_ok=True)
        self._process = None

    def remove(self) -> None:
        """Stop the server and delete its directory."""
        self.stop()
        try:
            state = self._read_state()
        except MariaDBError:
            state = None
        shutil.rmtree(self.base_dir, ignore_errors=True)
        if state and not state.socket.startswith(str(self.base_dir)):
            shutil.rmtree(Path(state.socket).parent, ignore_errors=True)

    # ---- steps ------------------------------------------------------------------------

    def _socket_path(self, previous: Connection | None) -> str:
        if previous is not None:
            Path(previous.socket).parent.mkdir(parents=True, exist_ok=True)
            return previous.socket
        candidate = self.base_dir / "mariadbd.sock"
        if len(str(candidate)) <= _MAX_SOCKET_PATH:
            return str(candidate)
        return str(Path(tempfile.mkdtemp(prefix="mariadb-")) / "mariadbd.sock")

    def _make_tls_material(self) -> None:
        openssl = shutil.which("openssl")
        if openssl is None:
            raise MariaDBError("openssl is not installed: apt-get install openssl")
        self.tls_dir.mkdir(parents=True, exist_ok=True)
        tls = self.tls_dir
        # A throwaway CA and a server certificate it signs, valid for the loopback names,
        # so both `required` and `verify-identity` (with ca.pem as the bundle) work.
        (tls / "server.ext").write_text(
            "basicConstraints=CA:FALSE\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n"
        )
        steps = [
            [
                openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "3650",
                "-subj", "/CN=ddb2aurora local CA",
                "-keyout", str(tls / "ca-key.pem"), "-out", str(tls / "ca.pem"),
            ],
            [
                openssl, "req", "-new", "-newkey", "rsa:2048", "-nodes",
                "-subj", "/CN=127.0.0.1",
                "-keyout", str(tls / "server-key.pem"), "-out", str(tls / "server.csr"),
            ],
            [
                openssl, "x509", "-req", "-in", str(tls / "server.csr"), "-days", "3650",
                "-CA", str(tls / "ca.pem"), "-CAkey", str(tls / "ca-key.pem"),
                "-CAcreateserial", "-extfile", str(tls / "server.ext"),
                "-out", str(tls / "server-cert.pem"),
            ],
        ]  # fmt: skip
        for step in steps:
            result = subprocess.run(step, capture_output=True, text=True, check=False)
            if result.returncode != 0:
                raise MariaDBError(f"openssl could not make the TLS material: {result.stderr}")

    def _write_config(self, port: int, socket_path: str) -> None:
        # mariadbd refuses to run as root unless told to; as root we say so explicitly
        # (the directory may sit where the mysql account cannot reach it).
        run_as = "root" if os.geteuid() == 0 else ""
        lines = [
            "[mariadbd]",
            f"datadir={self.data_dir}",
            f"socket={socket_path}",
            f"pid-file={self.pid_file}",
            f"log-error={self.log_file}",
            # on-disk temporary tables inside our own directory: a /tmp cleaner once
            # removed one mid-merge
            f"tmpdir={self.tmp_dir}",
            "bind-address=127.0.0.1",
            f"port={port}",
            "skip-name-resolve",
            "local_infile=ON",
            "character-set-server=utf8mb4",
            "collation-server=utf8mb4_unicode_ci",
            "default-time-zone=+00:00",
            f"ssl-ca={self.tls_dir / 'ca.pem'}",
            f"ssl-cert={self.tls_dir / 'server-cert.pem'}",
            f"ssl-key={self.tls_dir / 'server-key.pem'}",
            "innodb_buffer_pool_size=64M",
            "innodb_log_file_size=32M",
            "innodb_flush_log_at_trx_commit=2",
            "max_allowed_packet=64M",
            "max_connections=200",
            "skip-log-bin",
            "performance_schema=OFF",
        ]
        if run_as:
            lines.append(f"user={run_as}")
        self.config_file.write_text("\n".join(lines) + "\n")

    def _install(self, install_db: str) -> None:
        command = [
            install_db,
            f"--defaults-file={self.config_file}",
            "--auth-root-authentication-method=normal",
            "--skip-test-db",
        ]
        if os.geteuid() == 0:
            command.append("--user=root")
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise MariaDBError(
                f"mariadb-install-db failed (exit {result.returncode}):\n"
                f"{result.stdout[-2000:]}\n{result.stderr[-2000:]}"
            )

    def _launch_listening(self, mariadbd: str, port: int, socket_path: str) -> tuple[int, int]:
        """Launch and wait until the port listens; another port when this one was taken
        between choosing it and binding it (other servers start on this machine too)."""
        for _attempt in range(PORT_ATTEMPTS):
            log_offset = self.log_file.stat().st_size if self.log_file.exists() else 0
            pid = self._launch(mariadbd)
            deadline = time.monotonic() + READY_TIMEOUT_SECONDS
            # Its own log says when it listens (a probe could reach whoever took the port).
            while time.monotonic() < deadline and _process_alive(pid):
                if "ready for connections" in self._log_since(log_offset):
                    return pid, port
                time.sleep(0.1)
            if _process_alive(pid):
                raise MariaDBError(
                    f"mariadbd is not ready on port {port} after "
                    f"{READY_TIMEOUT_SECONDS:.0f} s; log:\n{self._log_tail()}"
                )
            if "already in use" not in self._log_since(log_offset):
                raise MariaDBError(f"mariadbd exited during start; log:\n{self._log_tail()}")
            port = _free_port()
            self._write_config(port, socket_path)
        raise MariaDBError(f"no free port after {PORT_ATTEMPTS} attempts; log:\n{self._log_tail()}")

    def _launch(self, mariadbd: str) -> int:
        self.pid_file.unlink(missing_ok=True)
        with self.log_file.open("ab") as log:
            # A new session, so Ctrl-C in the terminal that ran `make up` does not reach it.
            self._process = subprocess.Popen(
                [mariadbd, f"--defaults-file={self.config_file}"],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                start_new_session=True,
            )
        return self._process.pid

    def _provision(self, pid: int, port: int, socket_path: str) -> Connection:
        admin_password = secrets.token_urlsafe(18)
        password = secrets.token_urlsafe(18)
        connection = Connection(
            host="127.0.0.1",
            port=port,
            user=self.user,
            password=password,
            database=self.database,
            socket=socket_path,
            ssl_ca=str(self.tls_dir / "ca.pem"),
            admin_user="root",
            admin_password=admin_password,
            pid=pid,
        )
        admin = self._wait_for_socket(socket_path, pid, password="")
        try:
            with admin.cursor() as cursor:
                cursor.execute(f"CREATE DATABASE IF NOT EXISTS `{self.database}`")
                for host in ("localhost", "%"):
                    cursor.execute(
                        "CREATE USER IF NOT EXISTS %s@%s IDENTIFIED BY %s",
                        (self.user, host, password),
                    )
                    cursor.execute(
                        f"GRANT ALL PRIVILEGES ON `{self.database}`.* TO %s@%s", (self.user, host)
                    )
                cursor.execute("ALTER USER 'root'@'localhost' IDENTIFIED BY %s", (admin_password,))
                cursor.execute("FLUSH PRIVILEGES")
        finally:
            admin.close()
        return connection

    def _wait_for_socket(self, socket_path: str, pid: int, password: str) -> pymysql.Connection:
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        last_error: Exception | None = None
        while time.monotonic() < deadline:
            if not _process_alive(pid):
                raise MariaDBError(f"mariadbd exited during start; log:\n{self._log_tail()}")
            try:
                return pymysql.connect(
                    unix_socket=socket_path, user="root", password=password, autocommit=True
                )
            except pymysql.MySQLError as error:
                last_error = error
                time.sleep(0.1)
        raise MariaDBError(
            f"mariadbd did not accept connections within {READY_TIMEOUT_SECONDS:.0f} s "
            f"({last_error}); log:\n{self._log_tail()}"
        )

    def _wait_ready(self, connection: Connection) -> None:
        """Ready means the app user can log in over TCP with TLS."""
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        last_error: Exception | None = None
        while time.monotonic() < deadline:
            if not _process_alive(connection.pid):
                raise MariaDBError(f"mariadbd exited during start; log:\n{self._log_tail()}")
            try:
                client = connect(connection, ssl=True)
                client.close()
                return
            except pymysql.MySQLError as error:
                last_error = error
                time.sleep(0.1)
        raise MariaDBError(
            f"MariaDB on port {connection.port} is not ready after "
            f"{READY_TIMEOUT_SECONDS:.0f} s ({last_error}); log:\n{self._log_tail()}"
        )

    # ---- state ------------------------------------------------------------------------

    def running_connection(self) -> Connection | None:
        state = self._read_state()
        pid = self._pid()
        if state is None or pid is None or not _process_alive(pid):
            return None
        try:
            connect(state, ssl=False).close()
        except pymysql.MySQLError:
            return None
        return state

    def _pid(self) -> int | None:
        for source in (self.pid_file, self.state_file):
            with contextlib.suppress(OSError, ValueError, KeyError, json.JSONDecodeError):
                if source == self.pid_file:
                    return int(source.read_text().strip())
                return int(json.loads(source.read_text())["pid"])
        return None

    def _read_state(self) -> Connection | None:
        if not self.state_file.exists():
            if (self.data_dir / "mysql").is_dir():
                raise MariaDBError(
                    f"{self.data_dir} exists but {self.state_file} is gone; "
                    f"remove {self.base_dir} to start afresh"
                )
            return None
        return Connection(**json.loads(self.state_file.read_text()))

    def _write_state(self, connection: Connection) -> None:
        self.state_file.write_text(json.dumps(asdict(connection), indent=2) + "\n")
        self.state_file.chmod(0o600)

    def _log_since(self, offset: int) -> str:
        try:
            with self.log_file.open("rb") as log:
                log.seek(offset)
                return log.read().decode(errors="replace")
        except OSError:
            return ""

    def _log_tail(self) -> str:
        with contextlib.suppress(OSError):
            return "".join(self.log_file.read_text(errors="replace").splitlines(True)[-30:])
        return "(no log)"


def connect(
    connection: Connection, *, ssl: bool = True, **options: object
) -> pymysql.connections.Connection:  # type: ignore[type-arg]
    """A PyMySQL connection as the app user over TCP (TLS without verification by default)."""
    ssl_options: dict[str, object] = {"ssl_disabled": True}
    if ssl:
        # PyMySQL: the ssl_* keywords replace an `ssl` dict entirely, so use only them.
        ssl_options = {"ssl_ca": connection.ssl_ca, "ssl_verify_cert": False}
    return pymysql.connect(
        host=connection.host,
        port=connection.port,
        user=connection.user,
        password=connection.password,
        database=connection.database,
        charset="utf8mb4",
        connect_timeout=5,
        **ssl_options,  # type: ignore[arg-type]
        **options,  # type: ignore[arg-type]
    )


def connect_view(view: Mapping[str, Any], *, ssl: bool = True, **options: object) -> Any:
    """A PyMySQL connection from a ``public_view`` dict (as stack.json holds it)."""
    fields = {name: view[name] for name in ("host", "port", "user", "password", "database")}
    stand_in = Connection(
        **fields,
        socket=str(view.get("socket", "")),
        ssl_ca=str(view.get("ssl_ca", "")),
        admin_user="",
        admin_password="",
        pid=0,
    )
    return connect(stand_in, ssl=ssl and bool(stand_in.ssl_ca), **options)


def public_view(connection: Connection) -> dict[str, object]:
    """The connection fields a client needs (the admin account stays in the state file)."""
    return {
        "host": connection.host,
        "port": connection.port,
        "user": connection.user,
        "password": connection.password,
        "database": connection.database,
        "socket": connection.socket,
        "ssl_ca": connection.ssl_ca,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.local.mariadb", description=__doc__)
    parser.add_argument("command", choices=["start", "stop", "remove", "status"])
    parser.add_argument("--dir", required=True, type=Path, help="the server's own directory")
    parser.add_argument("--database", default="ddb2aurora")
    parser.add_argument("--user", default="app")
    args = parser.parse_args(argv)
    server = MariaDBServer(args.dir, database=args.database, user=args.user)
    try:
        if args.command == "start":
            print(json.dumps(public_view(server.start()), indent=2))
        elif args.command == "stop":
            server.stop()
        elif args.command == "remove":
            server.remove()
        else:
            running = server.running_connection()
            if running is None:
                print("stopped")
                return 1
            print(json.dumps(public_view(running), indent=2))
    except MariaDBError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
