"""The indexer end to end: the simulator's traffic on the real local chain, indexed over real JSON-RPC and
PubSub into a real PostgreSQL, equals the simulator's truth file exactly: after a backfill that turns
live, after a replay, after ten SIGKILLs at random moments, and under the chain's faults and a fork."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path

import asyncpg
from indexer_harness import (
    assert_matches_truth,
    local_chain,
    settings_for,
    simulate,
    wait_until_indexed,
)
from solders.hash import Hash
from solders.keypair import Keypair
from solders.message import Message
from solders.transaction import VersionedTransaction

from indexer import metrics
from indexer.cli import run
from programs.gift_pool import client as gp
from programs.localnet.faults import Faults
from programs.localnet.genesis import dev_keys


async def table_digest(pool: asyncpg.Pool) -> dict[str, str]:
    """A checksum of every fact table's content, to prove that a replay changed nothing."""
    digests = {}
    async with pool.acquire() as conn:
        for table in ("transactions", "gifts", "withdrawals", "creators", "creator_bindings", "admin_actions",
                      "batch_payouts", "failed_attempts", "decoded_events", "decoded_instructions"):  # fmt: skip
            digests[table] = await conn.fetchval(
                f"SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM {table} t"
            )
    return digests


async def wait_for_cursor_at_newest(pool: asyncpg.Pool, *, timeout: float) -> bool:
    """True once the cursor stands on a transaction of the newest slot, at that slot or later."""
    deadline = time.monotonic() + timeout
    while True:
        async with pool.acquire() as conn:
            cursor = await conn.fetchrow("SELECT slot, signature FROM cursors")
            last_slot = await conn.fetchval("SELECT max(slot) FROM transactions")
            newest = {
                r["signature"]
                for r in await conn.fetch("SELECT signature FROM transactions WHERE slot = $1", last_slot)
            }
        if cursor is not None and cursor["signature"] in newest and cursor["slot"] >= last_slot:
            return True
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.1)


async def test_backfill_then_live_equals_the_truth_and_a_replay_changes_nothing(
    db_url: str, db_pool: asyncpg.Pool
) -> None:
    live_before = metrics.SLOT_TO_ROW._sum.get()  # type: ignore[attr-defined]
    async with local_chain() as net:
        traffic = asyncio.create_task(simulate(net, seed=11, duration=4.0))
        await asyncio.sleep(1.5)  # the indexer starts with history behind it: backfill, then live
        indexer = asyncio.create_task(run(settings_for(net), database_url=db_url))
        truth = await traffic
        on_chain = await wait_until_indexed(db_pool, net)
        # rows delivered live do not move the cursor; the next sweep (every second) does
        cursor_done = await wait_for_cursor_at_newest(db_pool, timeout=10.0)
        assert not indexer.done(), indexer
        indexer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await indexer
        await assert_matches_truth(db_pool, truth, on_chain)
        assert metrics.SLOT_TO_ROW._sum.get() > live_before  # type: ignore[attr-defined]  # rows came live
        async with db_pool.acquire() as conn:
            settled = await conn.fetchval("SELECT count(*) FROM creator_balances WHERE settled_balance <> balance")
        # the cursor stands on the last transaction, at its slot or later (a sweep that found nothing new
        # moves it to the tip it checked, so that the lag shown is the indexer's own)
        assert cursor_done, cursor_done
        assert settled == 0  # everything is finalized: the settled figures equal the totals

        # replay the whole history from scratch: nothing changes
        before = await table_digest(db_pool)
        async with db_pool.acquire() as conn:
            await conn.execute("DELETE FROM cursors")
        stats = await run(settings_for(net, backfill_only=True), database_url=db_url)
        assert stats.transactions == len(on_chain)
        assert await table_digest(db_pool) == before


async def test_ten_sigkills_lose_nothing_and_duplicate_nothing(
    db_url: str, db_pool: asyncpg.Pool, tmp_path: Path
) -> None:
    rng = random.Random(3)
    async with local_chain() as net:
        env = {
            **os.environ,
            "DATABASE_URL": db_url,
            "MEMEFANS_INDEXER_FINALITY_INTERVAL_S": "0.2",
            "MEMEFANS_INDEXER_SWEEP_INTERVAL_S": "0.3",
        }
        command = [sys.executable, "-m", "memefans.cli", "index", "--rpc-url", net.rpc_url, "--ws-url", net.ws_url,
                   "--metrics-port", "0", "--batch-size", "7"]  # fmt: skip
        traffic = asyncio.create_task(simulate(net, seed=12, duration=9.0))
        kills = 0
        log = (tmp_path / "indexer.log").open("wb")
        while kills < 10:
            process = await asyncio.create_subprocess_exec(*command, env=env, stdout=log, stderr=log)
            await asyncio.sleep(rng.uniform(0.8, 2.2))
            assert process.returncode is None, (tmp_path / "indexer.log").read_text()[-3000:]
            process.send_signal(signal.SIGKILL)
            await process.wait()
            kills += 1
        truth = await traffic
        process = await asyncio.create_subprocess_exec(*command, env=env, stdout=log, stderr=log)
        try:
            on_chain = await wait_until_indexed(db_pool, net, timeout=90)
        finally:
            process.send_signal(signal.SIGTERM)
            await process.wait()
        await assert_matches_truth(db_pool, truth, on_chain)


async def test_faults_and_a_fork_leave_the_warehouse_equal_to_the_truth(db_url: str, db_pool: asyncpg.Pool) -> None:
    # the websocket faults are on from the start: the live stream duplicates, delays and drops
    faults = Faults(duplicate_fraction=0.3, notification_delay_ms=150, ws_drop_every_s=1.5)
    retries_before = metrics.RPC_RETRIES.labels("429")._value.get()  # type: ignore[attr-defined]
    reconnects_before = metrics.WS_RECONNECTS._value.get()  # type: ignore[attr-defined]
    async with local_chain(slot_ms=50, finality_depth=100, faults=faults) as net:
        indexer = asyncio.create_task(run(settings_for(net), database_url=db_url))
        truth = await simulate(net, seed=13, duration=5.0)  # the simulator's own client has no retries: no 429s yet

        # a gift that the chain will abandon: it is indexed at confirmed, then its slot dies
        chain = net.chain  # it runs in this process: send straight to it between two slots
        fan = Keypair()
        chain.airdrop(fan.pubkey(), 10**9)
        creator = truth["creators"][0]
        treasury = dev_keys().treasury.pubkey()
        ix = gp.gift_sol_ix(fan.pubkey(), creator["platform"], creator["handle"], 123_456_789, "doomed", "", treasury)
        message = Message.new_with_blockhash([ix], fan.pubkey(), Hash.from_string(chain.latest_blockhash))
        doomed = chain.send(VersionedTransaction(message, [fan]))
        assert doomed.err is None, doomed.logs
        async with db_pool.acquire() as conn:
            for _ in range(400):
                if await conn.fetchval("SELECT count(*) FROM gifts WHERE signature = $1", doomed.signature):
                    break
                await asyncio.sleep(0.05)
            else:
                raise AssertionError("the doomed gift was never indexed")
            commitment = await conn.fetchval("SELECT commitment FROM gifts WHERE signature = $1", doomed.signature)
            assert commitment == "confirmed"
        assert doomed.signature in chain.kill_slot(doomed.slot)  # (with the fan's airdrop, if it shared the slot)

        # now the HTTP faults too; the indexer starts over from the beginning (a full backfill) under them
        net.faults.update({"rate_limit_fraction": 0.15, "retry_after_s": 1, "latency_ms": 5})
        indexer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await indexer
        async with db_pool.acquire() as conn:
            await conn.execute("DELETE FROM cursors")
        indexer = asyncio.create_task(run(settings_for(net), database_url=db_url))

        on_chain = await wait_until_indexed(db_pool, net, timeout=90)
        indexer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await indexer
        await assert_matches_truth(db_pool, truth, on_chain)
        async with db_pool.acquire() as conn:
            assert await conn.fetchval("SELECT count(*) FROM gifts WHERE signature = $1", doomed.signature) == 0
            assert await conn.fetchval("SELECT status FROM slots WHERE slot = $1", doomed.slot) == "dead"
    assert metrics.RPC_RETRIES.labels("429")._value.get() > retries_before  # type: ignore[attr-defined]
    assert metrics.WS_RECONNECTS._value.get() > reconnects_before  # type: ignore[attr-defined]


async def test_a_transaction_landing_again_after_its_slot_died_is_indexed_without_a_restart(
    db_url: str, db_pool: asyncpg.Pool
) -> None:
    """A fork drops a gift's slot and the same signed transaction lands again in a later slot (as a
    validator re-including it does): the running indexer removes the dead row and stores the new one."""
    async with local_chain(slot_ms=50, finality_depth=20) as net:
        indexer = asyncio.create_task(run(settings_for(net), database_url=db_url))
        try:
            truth = await simulate(net, seed=17, duration=1.5)
            chain = net.chain
            fan = Keypair()
            funded = chain.airdrop(fan.pubkey(), 10**9)
            for _ in range(500):  # the gift lands in a later slot than the fan's airdrop, which stays
                if chain.slot > funded.slot:
                    break
                await asyncio.sleep(0.02)
            creator = truth["creators"][0]
            treasury = dev_keys().treasury.pubkey()
            ix = gp.gift_sol_ix(fan.pubkey(), creator["platform"], creator["handle"], 55_555_555, "again", "", treasury)
            gift = VersionedTransaction(
                Message.new_with_blockhash([ix], fan.pubkey(), Hash.from_string(chain.latest_blockhash)), [fan]
            )
            first = chain.send(gift)
            assert first.err is None, first.logs

            async def stored_slot() -> int | None:
                async with db_pool.acquire() as conn:
                    slot: int | None = await conn.fetchval(
                        "SELECT slot FROM gifts WHERE signature = $1", first.signature
                    )
                    return slot

            async def until(condition: Callable[[int | None], bool]) -> None:
                for _ in range(600):
                    if condition(await stored_slot()):
                        return
                    await asyncio.sleep(0.05)
                raise AssertionError(f"the gift's row never changed as expected (slot {await stored_slot()})")

            await until(lambda slot: slot == first.slot)
            assert chain.kill_slot(first.slot) == [first.signature]
            await until(lambda slot: slot is None)  # the finality loop saw the slot die and removed the row
            again = chain.send(gift)
            assert again.err is None and again.signature == first.signature and again.slot > first.slot
            await until(lambda slot: slot == again.slot)
            on_chain = await wait_until_indexed(db_pool, net, timeout=60)
        finally:
            indexer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await indexer
        assert on_chain[first.signature] is True
