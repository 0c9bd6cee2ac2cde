"""The demo's verdict (`memefans demo --for N` exits 0 only if the warehouse matches the chain): a clean
warehouse passes, and one tampered row fails it, with the reconciliation's figures shown."""

from __future__ import annotations

import asyncpg
import pytest
from indexer_harness import local_chain, simulate_and_index

from memefans.demo import _summary
from warehouse.jobs.runner import JobContext
from warehouse.jobs.settings import JobSettings


async def test_the_summary_passes_a_true_warehouse_and_fails_a_tampered_one(
    db_url: str, db_pool: asyncpg.Pool, capsys: pytest.CaptureFixture[str]
) -> None:
    async with local_chain(slot_ms=40, finality_depth=4) as net:
        await simulate_and_index(net, db_url, db_pool, seed=81, incidents=False, duration=1.5)
        ctx = JobContext(db_pool, JobSettings(rpc_url=net.rpc_url, reconcile_settle_s=0.2), full=True)

        assert await _summary(net.rpc_url, db_pool, ctx) == 0
        out = capsys.readouterr().out
        assert "missing 0" in out and "the warehouse matches the chain" in out

        async with db_pool.acquire() as conn:  # the books no longer agree with the vaults
            await conn.execute(
                "UPDATE gifts SET amount = amount + 1 WHERE signature = (SELECT signature FROM gifts "
                "WHERE mint IS NULL ORDER BY slot LIMIT 1)"
            )
        assert await _summary(net.rpc_url, db_pool, ctx) == 1
        out = capsys.readouterr().out
        assert "'mismatches': 1" in out and "the warehouse does NOT match the chain" in out
