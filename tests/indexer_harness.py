"""What the indexer's end-to-end tests share: a local chain with the gift pool, the simulator, the indexer's
settings for it, waiting until the warehouse holds every program transaction, and the comparison of the
warehouse with the simulator's truth file."""

from __future__ import annotations

import argparse
import asyncio
import random
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import httpx

from indexer.settings import IndexerSettings
from programs.gift_pool.client import PROGRAM_ID
from programs.localnet.chain import Chain
from programs.localnet.faults import Faults
from programs.localnet.genesis import deploy_gift_pool, dev_keys
from programs.localnet.server import Localnet, run_localnet
from programs.localnet.simulate import Simulator, _run


@asynccontextmanager
async def local_chain(
    *, slot_ms: int = 40, finality_depth: int = 4, faults: Faults | None = None
) -> AsyncIterator[Localnet]:
    chain = Chain(slot_ms=slot_ms, finality_depth=finality_depth)
    deploy_gift_pool(chain, dev_keys())
    async with run_localnet(chain=chain, slot_ms=slot_ms, faults=faults) as net:
        yield net


async def simulate(
    net: Localnet, *, seed: int, duration: float, tps: float = 20.0, creators: int = 9
) -> dict[str, Any]:
    from solana.rpc.async_api import AsyncClient

    args = argparse.Namespace(creators=creators, fans=12, duration=duration, tps=tps, seed=seed, no_incidents=False)
    async with AsyncClient(net.rpc_url, timeout=30) as rpc:
        return await _run(Simulator(rpc, random.Random(seed)), args)


def settings_for(net: Localnet, **changes: Any) -> IndexerSettings:
    values: dict[str, Any] = {
        "rpc_url": net.rpc_url,
        "ws_url": net.ws_url,
        "metrics_port": 0,
        "finality_interval_s": 0.2,
        "sweep_interval_s": 0.3,
    }
    values.update(changes)
    return IndexerSettings(**values)


async def rpc_call(url: str, method: str, params: list[Any]) -> Any:
    """One JSON-RPC call that waits out the chain's injected 429s."""
    async with httpx.AsyncClient(timeout=30) as http:
        for _ in range(100):
            reply = await http.post(url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
            if reply.status_code == 429:
                await asyncio.sleep(0.05)
                continue
            body = reply.json()
            if "error" in body:
                raise AssertionError(f"{method}: {body['error']}")
            return body["result"]
    raise AssertionError(f"{method}: rate limited 100 times")


async def program_signatures(url: str) -> dict[str, bool]:
    """Every transaction of the program on the chain at `confirmed`: signature -> succeeded."""
    found: dict[str, bool] = {}
    before = None
    while True:
        options: dict[str, Any] = {"limit": 1000, "commitment": "confirmed"}
        if before:
            options["before"] = before
        page = await rpc_call(url, "getSignaturesForAddress", [str(PROGRAM_ID), options])
        if not page:
            return found
        found.update((entry["signature"], entry["err"] is None) for entry in page)
        before = page[-1]["signature"]


async def wait_until_indexed(
    pool: asyncpg.Pool, net: Localnet, *, timeout: float = 60.0, finalized: bool = True
) -> dict[str, bool]:
    """Wait until the warehouse holds exactly the program's transactions (and, if asked, all finalized)."""
    deadline = time.monotonic() + timeout
    sent_by = net.chain.slot  # everything sent so far must be confirmed before the comparison means anything
    for _ in range(int(timeout * 50)):
        if await rpc_call(net.rpc_url, "getSlot", [{"commitment": "confirmed"}]) > sent_by:
            break
        await asyncio.sleep(0.02)
    missing: set[str] = set()
    extra: set[str] = set()
    pending = 0
    while time.monotonic() < deadline:
        on_chain = await program_signatures(net.rpc_url)
        async with pool.acquire() as conn:
            stored = {r["signature"] for r in await conn.fetch("SELECT signature FROM transactions")}
            pending = await conn.fetchval("SELECT count(*) FROM transactions WHERE commitment = 'confirmed'")
        missing, extra = set(on_chain) - stored, stored - set(on_chain)
        if not missing and not extra and (not finalized or pending == 0):
            return on_chain
        await asyncio.sleep(0.2)
    raise AssertionError(f"not indexed in {timeout} s: {len(missing)} missing, {len(extra)} extra, {pending} pending")


async def assert_matches_truth(pool: asyncpg.Pool, truth: dict[str, Any], on_chain: dict[str, bool]) -> None:
    """The warehouse equals the simulator's truth: every creator total and count, every incident's
    signatures, every program transaction once, no dead letter."""
    async with pool.acquire() as conn:
        balances = {r["creator"]: r for r in await conn.fetch("SELECT * FROM creator_balances")}
        tokens = {(r["creator"], r["mint"]): r for r in await conn.fetch("SELECT * FROM creator_token_balances")}
        token_counts = {
            (r["creator"], r["mint"]): r["n"]
            for r in await conn.fetch(
                "SELECT creator, mint, count(*) AS n FROM gifts WHERE mint IS NOT NULL GROUP BY 1, 2"
            )
        }
        transactions = {
            r["signature"]: r["success"] for r in await conn.fetch("SELECT signature, success FROM transactions")
        }
        failed = {r["signature"] for r in await conn.fetch("SELECT signature FROM failed_attempts")}
        dead = await conn.fetch("SELECT stage, reason FROM dead_letters")
    assert [tuple(r) for r in dead] == []
    assert transactions == on_chain  # no gap, no duplicate, failures recorded as such
    assert failed == {s for s, ok in on_chain.items() if not ok}
    assert len(balances) == len(truth["creators"])
    for creator in truth["creators"]:
        row = balances[creator["creator"]]
        got = (
            row["handle"],
            row["authority"],
            row["gifted"],
            row["fees"],
            row["withdrawn"],
            row["balance"],
            row["gift_count"],
        )
        want = (creator["handle"], creator["authority"], creator["gifted"], creator["fees"], creator["withdrawn"],
                creator["balance"], creator["gift_count"])  # fmt: skip
        assert got == want, creator["handle"]
        for mint, t in creator["tokens"].items():
            key = (creator["creator"], mint)
            if t["gift_count"] == 0 and t["withdrawn"] == 0:
                assert key not in tokens
                continue
            row = tokens[key]
            assert (row["gifted"], row["fees"], row["withdrawn"], row["balance"], token_counts.get(key, 0)) == (
                t["gifted"], t["fees"], t["withdrawn"], t["balance"], t["gift_count"]
            ), (creator["handle"], mint)  # fmt: skip
    for incident in truth["incidents"]:
        # an incident's program transactions are all indexed (its plain transfers, such as a sybil swarm's
        # funding, do not touch the program and are the jobs' business, read over RPC)
        ours = [s for s in incident["signatures"] if s in on_chain]
        assert ours, incident["kind"]
        assert all(s in transactions for s in ours), incident["kind"]


async def simulate_and_index(
    net: Localnet, db_url: str, pool: asyncpg.Pool, *, seed: int, incidents: bool = True, duration: float = 2.0
) -> dict[str, Any]:
    """The simulator's traffic, then one backfill of it into the warehouse; returns the truth file."""
    from solana.rpc.async_api import AsyncClient

    from indexer.cli import run as run_indexer

    args = argparse.Namespace(creators=9, fans=12, duration=duration, tps=20.0, seed=seed, no_incidents=not incidents)
    async with AsyncClient(net.rpc_url, timeout=30) as rpc:
        truth = await _run(Simulator(rpc, random.Random(seed)), args)
    await run_indexer(settings_for(net, backfill_only=True), database_url=db_url)
    await wait_until_indexed(pool, net, finalized=False)
    return truth
