"""The analytics jobs at scale: a full recompute over N gifts generated straight into the warehouse (COPY),
then an incremental run after 10,000 new gifts; time and peak memory of each.

Usage: python -m bench.bench_jobs [--gifts 1000000] [--creators 1000] [--fans 50000]
(the issue asks for 1M and 10M; 10M takes long on 2 cores: pass --gifts 10000000 to run it).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import resource
import shutil
import socket
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg

from warehouse.db import create_pool, upgrade
from warehouse.jobs.runner import JobContext, run_jobs
from warehouse.jobs.settings import JobSettings
from warehouse.server import EmbeddedServer

START = datetime(2026, 1, 1, tzinfo=UTC)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def generate(url: str, gifts: int, creators: int, fans: int, *, first_slot: int = 1, seed: int = 1) -> None:
    """Creators, then `gifts` gifts (Zipf-ish creators, log-normal sizes) and a withdrawal every 50 gifts."""
    rng = random.Random(seed)
    conn = await asyncpg.connect(url)
    try:
        if first_slot == 1:
            await conn.copy_records_to_table(
                "creators",
                records=[
                    (f"C{i:043d}", "x", f"c{i}", f"c{i}", None, f"reg{i}", 1, START, "finalized")
                    for i in range(creators)
                ],
                columns=[
                    "creator",
                    "platform",
                    "handle",
                    "handle_key",
                    "registered_by",
                    "signature",
                    "slot",
                    "block_time",
                    "commitment",
                ],
            )
        weights = [1 / (k + 1) ** 0.9 for k in range(creators)]
        chunk = 200_000
        slot = first_slot
        for start in range(0, gifts, chunk):
            count = min(chunk, gifts - start)
            picks = rng.choices(range(creators), weights=weights, k=count)
            gift_rows: list[tuple[Any, ...]] = []
            withdrawal_rows: list[tuple[Any, ...]] = []
            for n, c in enumerate(picks):
                slot += 1
                at = START + timedelta(seconds=slot * 7)
                amount = max(1_000_000, int(rng.lognormvariate(17.5, 1.2)))
                sig = f"g{first_slot}-{start + n}"
                gift_rows.append(
                    (
                        sig,
                        "0",
                        0,
                        slot,
                        None,
                        at,
                        "finalized",
                        f"C{c:043d}",
                        f"F{rng.randrange(fans):043d}",
                        None,
                        amount,
                        amount * 250 // 10_000,
                        f"p{rng.randrange(20)}",
                        "",
                        False,
                    )
                )
                if n % 50 == 49:
                    withdrawal_rows.append(
                        (
                            f"w{first_slot}-{start + n}",
                            "0",
                            0,
                            slot,
                            None,
                            at,
                            "finalized",
                            f"C{c:043d}",
                            "A" * 44,
                            "A" * 44,
                            None,
                            amount // 2,
                            False,
                        )
                    )
            await conn.copy_records_to_table(
                "gifts",
                records=gift_rows,
                columns=[
                    "signature",
                    "ix_path",
                    "event_index",
                    "slot",
                    "tx_index",
                    "block_time",
                    "commitment",
                    "creator",
                    "fan",
                    "mint",
                    "amount",
                    "fee",
                    "post_id",
                    "memo",
                    "derived",
                ],
            )
            await conn.copy_records_to_table(
                "withdrawals",
                records=withdrawal_rows,
                columns=[
                    "signature",
                    "ix_path",
                    "event_index",
                    "slot",
                    "tx_index",
                    "block_time",
                    "commitment",
                    "creator",
                    "authority",
                    "destination",
                    "mint",
                    "amount",
                    "by_admin",
                ],
            )
            await conn.copy_records_to_table(
                "transactions",
                records=[(r[0], r[3], r[5], True, 5000, False, r[8], "finalized") for r in gift_rows],
                columns=[
                    "signature",
                    "slot",
                    "block_time",
                    "success",
                    "fee",
                    "logs_truncated",
                    "fee_payer",
                    "commitment",
                ],
            )
        await conn.execute("ANALYZE")
    finally:
        await conn.close()


async def main_async(args: argparse.Namespace) -> None:
    root = Path(tempfile.mkdtemp(prefix="memefans-bench-jobs-"))
    os.chmod(root, 0o755)  # the server runs as its own user and must reach its folder
    server = EmbeddedServer(root=root / "pg", port=free_port())
    server.up()
    try:
        admin = await asyncpg.connect(server.url("postgres"))
        name = f"bench_{uuid.uuid4().hex[:8]}"
        await admin.execute(f'CREATE DATABASE "{name}"')
        await admin.close()
        url = server.url(name)
        await asyncio.to_thread(upgrade, url)
        started = time.perf_counter()
        await generate(url, args.gifts, args.creators, args.fans)
        print(
            f"generated {args.gifts:,} gifts for {args.creators:,} creators and {args.fans:,} fans "
            f"in {time.perf_counter() - started:.1f} s"
        )
        pool = await create_pool(url, max_size=4)
        ctx = JobContext(pool, JobSettings(), full=True)
        for job in ("creator_analytics", "platform_analytics"):
            before = time.perf_counter()
            (result,) = await run_jobs(ctx, [job])
            print(
                f"full recompute {job}: {time.perf_counter() - before:.1f} s, {result.rows:,} rows"
                f"{'  ERROR ' + result.error.splitlines()[0] if result.error else ''}; peak RSS {rss_mib():,.0f} MiB"
            )
        await generate(url, 10_000, args.creators, args.fans, first_slot=args.gifts * 2, seed=2)
        ctx.full = False
        before = time.perf_counter()
        (result,) = await run_jobs(ctx, ["creator_analytics"])
        print(
            f"incremental creator_analytics after 10,000 new gifts: {time.perf_counter() - before:.1f} s, "
            f"{result.rows:,} rows for {ctx.notes.get('creators')} creators; peak RSS {rss_mib():,.0f} MiB"
        )
        await pool.close()
    finally:
        server.down()
        shutil.rmtree(root, ignore_errors=True)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gifts", type=int, default=1_000_000)
    parser.add_argument("--creators", type=int, default=1_000)
    parser.add_argument("--fans", type=int, default=50_000)
    asyncio.run(main_async(parser.parse_args(argv)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
