"""The indexer's ingest rate against the PostgreSQL COPY ceiling, its live latency, and its peak memory.

Backfill: N stored getTransaction files of our program (gifts, some batched) replayed through the whole
pipeline (read, decode, project, COPY into staging, upsert, cursor) into a fresh warehouse, in decoded
events a second. Ceiling, measured in the same run on the same server: the very rows the pipeline wrote,
COPYed straight into the empty tables (no decode, no staging, no upsert). Target: at least half.

Live: the simulator's traffic at its default rate on the local chain, indexed live; for every
transaction, the time from its slot turning `confirmed` (the earliest the indexer may see it) to its rows
being committed. Peak memory: the process's maximum resident set.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import resource
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import asyncpg
from solders.hash import Hash
from solders.keypair import Keypair
from solders.message import Message
from solders.transaction import VersionedTransaction

from indexer.decode import Decoder, load_idl
from indexer.pipeline import Pipeline, Stats
from indexer.projection import Projector, Rows
from indexer.settings import DEFAULT_IDL
from indexer.sources import ReplaySource
from indexer.sources.base import Batch
from programs.gift_pool import client as gp
from programs.localnet.chain import Chain
from programs.localnet.genesis import deploy_gift_pool, dev_keys
from programs.localnet.rpc import encode_transaction
from warehouse.db import upgrade
from warehouse.server import EmbeddedServer
from warehouse.sink import SINK_TABLES, columns, open_sink

PROGRAM = str(gp.PROGRAM_ID)


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def make_history(folder: Path, count: int) -> int:
    """`count` program transactions as getTransaction files (one JSON array per 1000); returns the events."""
    chain = Chain(slot_ms=400)
    keys = dev_keys()
    deploy_gift_pool(chain, keys)
    treasury = keys.treasury.pubkey()
    rng = random.Random(1)
    handles = [("x", f"creator{i}") for i in range(50)]
    payer = Keypair()
    chain.airdrop(payer.pubkey(), 10**15)
    executed = []

    def send(ixs: list[Any], signers: list[Keypair]) -> None:
        message = Message.new_with_blockhash(ixs, signers[0].pubkey(), Hash.from_string(chain.latest_blockhash))
        result = chain.send(VersionedTransaction(message, signers))
        if result.err is not None:
            raise RuntimeError(result.logs)
        executed.append(result)

    for platform, handle in handles:
        send([gp.register_creator_ix(platform, handle, payer.pubkey())], [payer])
    fans = [Keypair() for _ in range(200)]
    for fan in fans:
        chain.airdrop(fan.pubkey(), 10**13)
    events = 0
    while len(executed) < count:
        fan = rng.choice(fans)
        if rng.random() < 0.2:
            picked = rng.sample(handles, 4)
            gifts = [gp.Gift(p, h, rng.randint(10**6, 10**9), f"post{rng.randint(1, 99)}", "gm") for p, h in picked]
            send([gp.batch_gift_ix(fan.pubkey(), gifts, treasury)], [fan])
            events += 4
        else:
            platform, handle = rng.choice(handles)
            amount = rng.randint(10**6, 10**9)
            send(
                [gp.gift_sol_ix(fan.pubkey(), platform, handle, amount, f"post{rng.randint(1, 99)}", "", treasury)],
                [fan],
            )
            events += 1
        if len(executed) % 20 == 0:
            chain.advance()
    events += len(handles)
    for start in range(0, len(executed), 1000):
        chunk = [{**encode_transaction(e, "json", 0), "slot": e.slot} for e in executed[start : start + 1000]]
        (folder / f"txs-{start:08d}.json").write_text(json.dumps(chunk))
    return events


async def ingest(url: str, folder: Path) -> tuple[float, Stats, dict[str, list[tuple[Any, ...]]]]:
    idl = load_idl(DEFAULT_IDL)
    sink = await open_sink(url)
    captured: dict[str, list[tuple[Any, ...]]] = {}
    decoder = Decoder([idl])
    projector = Projector(PROGRAM)
    pipeline = Pipeline(
        source=ReplaySource([folder]), decoder=decoder, projector=projector, sink=sink, cursor_name=PROGRAM
    )
    started = time.perf_counter()
    stats = await pipeline.run()
    elapsed = time.perf_counter() - started
    # the rows the pipeline wrote, rebuilt for the ceiling (outside the timed part)
    rows = Rows()
    async for batch in ReplaySource([folder]).stream(None):
        for tx in batch.transactions:
            assert tx.payload is not None
            decoded = decoder.decode(tx.payload, slot=tx.slot, signature=tx.signature)
            projector.project(decoded, rows, commitment="confirmed")  # type: ignore[arg-type]
    captured = rows.records()
    await sink.close()
    return elapsed, stats, captured


async def copy_ceiling(url: str, records: dict[str, list[tuple[Any, ...]]]) -> float:
    conn = await asyncpg.connect(url)
    try:
        await conn.set_type_codec(
            "jsonb", schema="pg_catalog", format="binary",
            encoder=lambda v: b"\x01" + json.dumps(v, separators=(",", ":")).encode(), decoder=lambda b: b,
        )  # fmt: skip
        started = time.perf_counter()
        async with conn.transaction():
            for table in SINK_TABLES:
                if records.get(table.name):
                    await conn.copy_records_to_table(
                        table.name, records=records[table.name], columns=columns(table.name)
                    )
        return time.perf_counter() - started
    finally:
        await conn.close()


async def fresh_database(admin_url: str) -> str:
    name = f"bench_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    url = admin_url.rsplit("/", 1)[0] + f"/{name}"
    await asyncio.to_thread(upgrade, url)  # Alembic runs its own event loop
    return url


async def live_latency(url: str, seconds: float) -> list[float]:
    from solana.rpc.async_api import AsyncClient

    from indexer.cli import run
    from indexer.settings import IndexerSettings
    from programs.localnet.server import run_localnet
    from programs.localnet.simulate import Simulator, _run

    chain = Chain(slot_ms=400, finality_depth=32)
    deploy_gift_pool(chain, dev_keys())
    confirmed_at: dict[int, float] = {}
    produce = chain.advance

    def advance() -> Any:
        produced = produce()
        confirmed_at[produced.slot - 1] = time.time()  # the previous slot is confirmed from now on
        return produced

    chain.advance = advance  # type: ignore[method-assign]
    latencies: list[float] = []

    def on_batch(batch: Batch, stats: Stats) -> None:
        now = time.time()
        for tx in batch.transactions:
            if not batch.backfill and tx.slot in confirmed_at:
                latencies.append(now - confirmed_at[tx.slot])

    async with run_localnet(chain=chain, slot_ms=400) as net:
        settings = IndexerSettings(rpc_url=net.rpc_url, ws_url=net.ws_url, metrics_port=0)
        indexer = asyncio.create_task(run(settings, database_url=url, on_batch=on_batch))
        await asyncio.sleep(1.0)
        traffic = argparse.Namespace(creators=12, fans=30, duration=seconds, tps=5.0, seed=21, no_incidents=False)
        async with AsyncClient(net.rpc_url, timeout=30) as rpc:
            await _run(Simulator(rpc, random.Random(21)), traffic)
        await asyncio.sleep(1.5)
        indexer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await indexer
    return latencies


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def main_async(args: argparse.Namespace) -> None:
    root = Path(tempfile.mkdtemp(prefix="memefans-bench-"))
    os.chmod(root, 0o755)  # the server runs as its own user and must reach its folder
    server = EmbeddedServer(root=root / "pg", port=free_port())
    server.up()
    try:
        admin = server.url("postgres")
        history = root / "history"
        history.mkdir()
        started = time.perf_counter()
        events = make_history(history, args.transactions)
        print(
            f"history: {args.transactions:,} transactions, {events:,} events, "
            f"made in {time.perf_counter() - started:.1f} s"
        )

        elapsed, stats, records = await ingest(await fresh_database(admin), history)
        rate = stats.events / elapsed
        ceiling_s = await copy_ceiling(await fresh_database(admin), records)
        ceiling = stats.events / ceiling_s
        rows = sum(len(r) for r in records.values())
        print(f"backfill ingest (replay -> decode -> project -> COPY+upsert, cursor per batch): "
              f"{stats.transactions:,} tx, {stats.events:,} events in {elapsed:.2f} s = {rate:,.0f} events/s "
              f"({stats.transactions / elapsed:,.0f} tx/s)")  # fmt: skip
        print(
            f"COPY ceiling (same {rows:,} rows straight into empty tables): {ceiling_s:.2f} s = {ceiling:,.0f} events/s"
        )
        print(f"ratio ingest/ceiling: {rate / ceiling:.2f} (target >= 0.50)")
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak RSS after the backfill: {peak_mb:,.0f} MiB")

        if args.live_seconds > 0:
            latencies = await live_latency(await fresh_database(admin), args.live_seconds)
            if latencies:
                print(f"live slot-to-row latency over {len(latencies)} tx (from the slot turning confirmed): "
                      f"p50 {percentile(latencies, 0.5) * 1000:,.0f} ms, "
                      f"p99 {percentile(latencies, 0.99) * 1000:,.0f} ms, "
                      f"mean {statistics.fmean(latencies) * 1000:,.0f} ms")  # fmt: skip
            else:
                print("live: no transaction was indexed live")
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak RSS of the whole run: {peak_mb:,.0f} MiB")
    finally:
        server.down()
        shutil.rmtree(root, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--transactions", type=int, default=20_000)
    parser.add_argument("--live-seconds", type=float, default=20.0)
    asyncio.run(main_async(parser.parse_args(argv)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] if __name__ == "__main__" and len(sys.argv) > 1 else []))
