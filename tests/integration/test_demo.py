"""`memefans demo` as a newcomer runs it: the whole platform for 60 seconds, its summary and exit code;
then a second start on the data kept, stopped by Ctrl-C, with nothing left running."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import free_port


def consecutive_free_ports() -> int:
    """A port whose next one is free too (the local chain's PubSub listens on RPC port + 1)."""
    for _ in range(100):
        port = free_port()
        if port >= 65535:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
        return port
    raise RuntimeError("no two consecutive free ports")


def listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture
def demo_env() -> Iterator[dict[str, str]]:
    data = Path(tempfile.mkdtemp(prefix="memefans-demo-"))
    data.chmod(0o755)  # our own test folder: the server's user must pass through it to reach pg/
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env |= {"MEMEFANS_DATA_DIR": str(data), "MEMEFANS_DB_PORT": str(free_port()), "PYTHONUNBUFFERED": "1"}
    yield env
    subprocess.run([sys.executable, "-m", "memefans", "db", "down"], env=env, capture_output=True, timeout=60)
    shutil.rmtree(data, ignore_errors=True)


def demo_command(*extra: str) -> tuple[list[str], dict[str, int]]:
    ports = {"rpc": consecutive_free_ports(), "api": free_port(), "dashboard": free_port(), "metrics": free_port()}
    command = [sys.executable, "-m", "memefans", "demo", *extra]
    command += ["--rpc-port", str(ports["rpc"]), "--api-port", str(ports["api"])]
    command += ["--dashboard-port", str(ports["dashboard"]), "--metrics-port", str(ports["metrics"])]
    return command, ports


def test_demo_for_60_seconds_matches_the_chain_then_keeps_its_data_across_a_ctrl_c(
    demo_env: dict[str, str],
) -> None:
    command, ports = demo_command("--for", "60", "--reset")
    started = time.monotonic()
    first = subprocess.run(command, env=demo_env, capture_output=True, text=True, timeout=400)
    elapsed = time.monotonic() - started
    out = first.stdout
    assert first.returncode == 0, out[-3000:] + first.stderr[-3000:]
    assert "the warehouse matches the chain" in out
    assert re.search(r"missing 0\b", out)
    assert "reconciliation: {" in out and "'mismatches': 0" in out
    gifts = int(re.findall(r"gifts indexed (\d+);", out)[-1])
    assert gifts > 50, out  # a minute of traffic at three steps a second
    assert f"http://127.0.0.1:{ports['dashboard']}/login" in out
    links = re.findall(rf"http://127\.0\.0\.1:{ports['dashboard']}/auth/link/\S+", out)
    assert links, out
    assert "stopped:" in out
    assert 60 < elapsed < 400
    # everything stopped: PostgreSQL, chain, API and dashboard no longer listen
    everything = (int(demo_env["MEMEFANS_DB_PORT"]), ports["rpc"], ports["rpc"] + 1, ports["api"], ports["dashboard"])
    for port in (*everything, ports["metrics"]):
        assert not listening(port), port

    # a second start keeps what the first indexed; Ctrl-C stops it cleanly
    command, ports = demo_command()
    process = subprocess.Popen(command, env=demo_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    progress = threading.Event()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            if "gifts indexed" in line:
                progress.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        assert progress.wait(120), "".join(lines)[-3000:]
        assert "reset:" not in "".join(lines)
        indexed = int(re.findall(r"gifts indexed\s+(\d+)", "".join(lines))[0])
        assert indexed >= gifts, "".join(lines)  # the first run's gifts are still in the warehouse
        for port in (ports["api"], ports["dashboard"], ports["rpc"], ports["metrics"]):
            assert listening(port), port
        exposed = urllib.request.urlopen(f"http://127.0.0.1:{ports['metrics']}/metrics", timeout=10).read().decode()
        cursor = re.search(r"^memefans_indexer_cursor_slot (\S+)$", exposed, re.MULTILINE)
        assert cursor is not None and float(cursor.group(1)) > 0, exposed[:2000]  # the running indexer's own
        process.send_signal(signal.SIGINT)
        assert process.wait(60) == 0, "".join(lines)[-3000:]
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    reader.join(5)
    assert "stopped:" in "".join(lines)
    for port in (int(demo_env["MEMEFANS_DB_PORT"]), ports["rpc"], ports["api"], ports["dashboard"], ports["metrics"]):
        assert not listening(port), port
    assert not (Path(demo_env["MEMEFANS_DATA_DIR"]) / "pg" / "data" / "postmaster.pid").exists()

    # --reset on the data kept: a new chain and an empty warehouse, so only this short run's gifts are there
    command, ports = demo_command("--for", "5", "--reset")
    fresh = subprocess.run(command, env=demo_env, capture_output=True, text=True, timeout=300)
    assert fresh.returncode == 0, fresh.stdout[-3000:] + fresh.stderr[-3000:]
    assert "reset: the warehouse and the chain start from nothing" in fresh.stdout
    assert "the warehouse matches the chain" in fresh.stdout
    assert int(re.findall(r"gifts indexed (\d+);", fresh.stdout)[-1]) < indexed  # the earlier gifts are gone
