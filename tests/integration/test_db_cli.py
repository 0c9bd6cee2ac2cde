"""`memefans db` as a user runs it: a real embedded server in a temporary folder, and its errors."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import free_port
from warehouse.db import head_revision


def memefans(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "memefans", *args], capture_output=True, text=True, env=env, timeout=120
    )


@pytest.fixture
def db_env() -> Iterator[dict[str, str]]:
    data = Path(tempfile.mkdtemp(prefix="memefans-cli-"))
    data.chmod(0o755)  # our own test folder: the server's user must pass through it to reach pg/
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env |= {"MEMEFANS_DATA_DIR": str(data), "MEMEFANS_DB_PORT": str(free_port())}
    yield env
    memefans("db", "down", env=env)
    shutil.rmtree(data, ignore_errors=True)


def test_up_migrate_status_url_down(db_env: dict[str, str]) -> None:
    first = memefans("db", "up", env=db_env)
    assert first.returncode == 0, first.stderr
    assert "started PostgreSQL" in first.stderr
    again = memefans("db", "up", env=db_env)
    assert again.returncode == 0 and "already running" in again.stderr

    url = memefans("db", "url", env=db_env).stdout.strip()
    assert url.startswith("postgresql://postgres:") and f":{db_env['MEMEFANS_DB_PORT']}/memefans" in url
    password = url.split(":")[2].split("@")[0]

    assert memefans("db", "migrate", env=db_env).returncode == 0
    status = memefans("db", "status", env=db_env)
    assert status.returncode == 0, status.stderr
    assert "PostgreSQL 18" in status.stdout
    assert f"{head_revision()} (at head)" in status.stdout
    assert "gifts" in status.stdout
    assert password not in status.stdout  # status never shows the password

    data = Path(db_env["MEMEFANS_DATA_DIR"]) / "pg"
    assert oct((data / "password").stat().st_mode & 0o777) == "0o600"
    down = memefans("db", "down", env=db_env)
    assert down.returncode == 0 and "stopped" in down.stderr


def test_up_on_a_busy_port_names_the_port_and_the_fix(db_env: dict[str, str]) -> None:
    port = int(db_env["MEMEFANS_DB_PORT"])
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", port))
        busy.listen()
        result = memefans("db", "up", env=db_env)
    assert result.returncode == 1
    assert f"port {port}" in result.stderr and "MEMEFANS_DB_PORT" in result.stderr


def test_unreachable_database_url_fails_fast_and_clearly() -> None:
    # A server that accepts the connection and never answers: the worst case for a hang.
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen()
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        silent.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(silent.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    port = silent.getsockname()[1]
    env = dict(os.environ, DATABASE_URL=f"postgresql://u:p@127.0.0.1:{port}/db", MEMEFANS_CONNECT_TIMEOUT="3")
    started = time.monotonic()
    result = memefans("db", "status", env=env)
    elapsed = time.monotonic() - started
    stop.set()
    thread.join()
    silent.close()
    assert result.returncode == 1
    assert "cannot connect to postgresql://u@127.0.0.1" in result.stderr
    assert ":p@" not in result.stderr
    assert elapsed < 10

    closed = dict(os.environ, DATABASE_URL=f"postgresql://u:p@127.0.0.1:{free_port()}/db")
    refused = memefans("db", "status", env=closed)
    assert refused.returncode == 1 and "cannot connect" in refused.stderr


@pytest.mark.skipif(os.geteuid() != 0, reason="the unprivileged server user exists only when run as root")
def test_root_refuses_a_data_folder_the_server_user_cannot_reach(db_env: dict[str, str]) -> None:
    Path(db_env["MEMEFANS_DATA_DIR"]).chmod(0o700)
    result = memefans("db", "up", env=db_env)
    assert result.returncode == 1
    assert "not traversable by the user memefans-pg" in result.stderr
    assert "MEMEFANS_DATA_DIR" in result.stderr
