"""A warehouse belongs to one chain and one program: `memefans index` records the first chain's genesis hash
and the program id, and refuses another chain or program in one sentence, writing nothing."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg

from programs.gift_pool.client import PROGRAM_ID
from programs.localnet.chain import Chain
from programs.localnet.genesis import deploy_gift_pool, dev_keys
from programs.localnet.server import Localnet, run_localnet

MEMEFANS = [sys.executable, "-m", "memefans.cli"]
OTHER_PROGRAM = "11111111111111111111111111111111"  # the system program: a valid id that is not ours


@asynccontextmanager
async def chain_at(genesis_time: int) -> AsyncIterator[Localnet]:
    chain = Chain(slot_ms=40, finality_depth=4, genesis_time=genesis_time)
    deploy_gift_pool(chain, dev_keys())
    async with run_localnet(chain=chain, slot_ms=40) as net:
        yield net


async def index(net: Localnet, db_url: str, *extra: str) -> tuple[int, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEMEFANS_INDEXER_")}
    process = await asyncio.create_subprocess_exec(
        *MEMEFANS, "index", "--rpc-url", net.rpc_url, "--ws-url", net.ws_url, "--metrics-port", "0",
        "--backfill-only", *extra,
        env={**env, "DATABASE_URL": db_url}, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, err = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode is not None
    return process.returncode, err.decode()


async def counts(pool: asyncpg.Pool) -> tuple[int, ...]:
    async with pool.acquire() as conn:
        row = await conn.fetchrow(
            "SELECT (SELECT count(*) FROM transactions) AS t, (SELECT count(*) FROM cursors) AS c,"
            " (SELECT count(*) FROM dead_letters) AS d, (SELECT count(*) FROM chain_identity) AS i"
        )
    return tuple(row)


async def test_a_second_chain_or_program_is_refused_and_the_same_chain_goes_on(
    db_url: str, db_pool: asyncpg.Pool
) -> None:
    now = int(time.time())
    async with chain_at(now - 1000) as first, chain_at(now - 2000) as second:
        genesis_a = first.chain.slots[min(first.chain.slots)].blockhash
        genesis_b = second.chain.slots[min(second.chain.slots)].blockhash
        assert genesis_a != genesis_b

        code, err = await index(first, db_url)
        assert code == 0, err
        async with db_pool.acquire() as conn:
            held = await conn.fetchrow("SELECT genesis_hash, program_id, rpc_url FROM chain_identity")
        assert tuple(held) == (genesis_a, str(PROGRAM_ID), first.rpc_url)
        before = await counts(db_pool)
        assert before[0] >= 1 and before[1] == 1

        code, err = await index(second, db_url)
        assert code != 0
        assert "Traceback" not in err
        (line,) = [ln for ln in err.splitlines() if ln.startswith("memefans index:")]
        assert f"this warehouse holds the chain with genesis hash {genesis_a}" in line
        assert f"not the chain at {second.rpc_url} (genesis hash {genesis_b})" in line
        assert "DATABASE_URL" in line  # how to start fresh
        assert await counts(db_pool) == before  # nothing written

        code, err = await index(first, db_url, "--program-id", OTHER_PROGRAM)
        assert code != 0
        (line,) = [ln for ln in err.splitlines() if ln.startswith("memefans index:")]
        assert f"program {PROGRAM_ID}, not program {OTHER_PROGRAM}" in line and "genesis" not in line
        assert await counts(db_pool) == before

        code, err = await index(first, db_url)  # the same chain again: it goes on
        assert code == 0, err
        assert "memefans index:" not in err
    async with db_pool.acquire() as conn:
        assert await conn.fetchval("SELECT genesis_hash FROM chain_identity") == genesis_a


async def test_the_local_chain_keeps_its_genesis_hash_across_a_restart_of_its_ledger(tmp_path: Path) -> None:
    ledger = tmp_path / "ledger"
    first = Chain(slot_ms=40, ledger=ledger)
    deploy_gift_pool(first, dev_keys())
    again = Chain(slot_ms=40, ledger=ledger)
    assert again.resumed
    assert again.slots[min(again.slots)].blockhash == first.slots[min(first.slots)].blockhash
