"""Creator-endpoint throughput and latency under concurrent load from a second process.

Starts PostgreSQL (embedded, temporary), seeds 1,000 creators with 100 gifts each, serves the API with
uvicorn in a subprocess, and drives GET /v1/creators/{platform}/{handle} from this process at a fixed offered
rate, twice: with a lean keep-alive client on raw sockets (what the server costs) and with httpx (what a
Python client adds on this 2-core machine). The baseline is GET /metrics on the same server (no database
work), measured the same way. Target: p99 under 20 ms at 500 requests/s.
"""

from __future__ import annotations

import asyncio
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import asyncpg
import httpx

from warehouse.db import upgrade
from warehouse.server import EmbeddedServer

CREATORS = 1_000
GIFTS_PER_CREATOR = 100


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def seed(url: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.copy_records_to_table(
            "creators",
            columns=["creator", "platform", "handle", "handle_key", "signature", "slot", "commitment"],
            records=[(f"C{i:043d}", "x", f"h{i}", f"h{i}", f"reg{i}", 1, "finalized") for i in range(CREATORS)],
        )
        rows = [
            (f"g{i}-{j}", "0", 0, 10 + j, "finalized", f"C{i:043d}", f"F{j:043d}", 1_000_000 + j, 25_000)
            for i in range(CREATORS)
            for j in range(GIFTS_PER_CREATOR)
        ]
        await conn.copy_records_to_table(
            "gifts",
            columns=["signature", "ix_path", "event_index", "slot", "commitment", "creator", "fan", "amount", "fee"],
            records=rows,
        )
        await conn.execute("INSERT INTO cursors (name, slot, details) VALUES ('gift_pool', 200, '{\"tip_slot\": 201}')")
        # start the measurement from a quiet server: the freshly loaded tables vacuumed and the checkpoint
        # of the load written, instead of autovacuum and the checkpointer waking up during a round
        await conn.execute("VACUUM ANALYZE")
        await conn.execute("CHECKPOINT")
    finally:
        await conn.close()


async def load(base: str, paths: list[str], rate: float, seconds: float) -> tuple[list[float], int]:
    latencies: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=5) as client:

        async def one(path: str) -> None:
            nonlocal errors
            started = time.perf_counter()
            try:
                response = await client.get(path)
            except httpx.HTTPError:  # the client's own pool timing out under overload: an error, not a crash
                errors += 1
                return
            latencies.append(time.perf_counter() - started)
            errors += response.status_code != 200

        tasks = []
        start = time.perf_counter()
        n = int(rate * seconds)
        for i in range(n):
            delay = start + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(paths[i % len(paths)])))
        await asyncio.gather(*tasks)
    return latencies, errors


class _Connection:
    """One keep-alive HTTP/1.1 connection on raw asyncio streams: a load generator that costs the client
    ~0.1 ms a request instead of httpx's ~1 ms, so that the server, not the client, is what is measured."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    async def get(self, host: str, path: str) -> int:
        self.writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nAccept: application/json\r\n\r\n".encode())
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n"):
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        await self.reader.readexactly(length)
        return status


async def lean_load(base: str, paths: list[str], rate: float, seconds: float) -> tuple[list[float], int]:
    host_port = base.removeprefix("http://")
    host, port = host_port.split(":")
    idle: list[_Connection] = []
    latencies: list[float] = []
    errors = 0

    async def one(path: str) -> None:
        nonlocal errors
        started = time.perf_counter()
        connection = idle.pop() if idle else _Connection(*await asyncio.open_connection(host, int(port)))
        try:
            status = await connection.get(host_port, path)
        except (OSError, asyncio.IncompleteReadError):
            errors += 1
            return
        latencies.append(time.perf_counter() - started)
        errors += status != 200
        idle.append(connection)

    tasks = []
    start = time.perf_counter()
    for i in range(int(rate * seconds)):
        delay = start + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(paths[i % len(paths)])))
    await asyncio.gather(*tasks)
    for connection in idle:
        connection.writer.close()
    return latencies, errors


def report(label: str, latencies: list[float], errors: int, elapsed: float) -> None:
    q = statistics.quantiles(latencies, n=100)
    print(
        f"{label:<36} {len(latencies) / elapsed:8.0f} req/s  p50 {q[49] * 1000:6.2f} ms  "
        f"p99 {q[98] * 1000:6.2f} ms  errors {errors}"
    )


def main() -> None:
    root = Path(tempfile.mkdtemp(prefix="memefans-bench-api-"))
    root.chmod(0o755)
    server = EmbeddedServer(root=root / "pg", port=free_port())
    server.up()
    api_port = free_port()
    proc = None
    try:
        url = server.url()
        upgrade(url)
        asyncio.run(seed(url))
        env = dict(os.environ, DATABASE_URL=url, MEMEFANS_API_RATE_LIMIT_PER_MINUTE="10000000",
                   MEMEFANS_API_RATE_LIMIT_BURST="1000000")  # fmt: skip
        proc = subprocess.Popen(
            [sys.executable, "-m", "memefans", "api", "--port", str(api_port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{api_port}"
        for _ in range(100):
            try:
                httpx.get(base + "/v1/health", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        paths = [f"/v1/creators/x/h{i}" for i in random.Random(7).sample(range(CREATORS), 200)]
        print(f"seeded {CREATORS} creators x {GIFTS_PER_CREATOR} gifts; uvicorn, 1 worker; load from this process")
        for client, run, rates in (("lean", lean_load, (100, 300, 500)), ("httpx", load, (100, 300))):
            for rate in rates:
                started = time.perf_counter()
                lat, err = asyncio.run(run(base, ["/metrics"], rate, 5))
                report(f"{client} baseline /metrics @{rate}/s", lat, err, time.perf_counter() - started)
                started = time.perf_counter()
                lat, err = asyncio.run(run(base, paths, rate, 5))
                report(f"{client} creator @{rate}/s offered", lat, err, time.perf_counter() - started)
        # the target, measured five times: one 5-second round's p99 is its 25th-worst request, so a single
        # scheduling hiccup of this virtual machine decides it; the median round is the figure to quote
        print("target check, lean client, 500 req/s offered, 5 rounds of 5 s (baseline and creator alternating):")
        p99s: dict[str, list[float]] = {"baseline /metrics": [], "creator": []}
        for round_ in range(5):
            for name, targets in (("baseline /metrics", ["/metrics"]), ("creator", paths)):
                started = time.perf_counter()
                lat, err = asyncio.run(lean_load(base, targets, 500, 5))
                report(f"  round {round_ + 1} {name}", lat, err, time.perf_counter() - started)
                p99s[name].append(statistics.quantiles(lat, n=100)[98] * 1000)
        for name, values in p99s.items():
            print(f"median p99 over the rounds, {name}: {statistics.median(values):.2f} ms "
                  f"(best {min(values):.2f}, worst {max(values):.2f})")  # fmt: skip
        creator = statistics.median(p99s["creator"])
        print(
            f"target p99 < 20 ms at 500 req/s: {'met' if creator < 20 else 'NOT met'} (median round {creator:.2f} ms)"
        )
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(10)
        server.down()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
