"""The jobs on a real warehouse filled by the real indexer from the simulator's traffic on the local chain:
every incident raised by its rule (recall 100%), nothing high or above on clean traffic, reconciliation
that passes and then catches a tampered row, incremental equal to full, a failing job recorded without
stopping the others, signed webhook deliveries with retries, schedules that survive a restart."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import asyncpg
import pytest
import uvicorn
from conftest import free_port
from indexer_harness import local_chain, simulate_and_index, wait_until_indexed
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from programs.localnet.server import Localnet
from warehouse.jobs import runner
from warehouse.jobs.runner import JobContext, run_jobs
from warehouse.jobs.settings import JobSettings

# incident kind -> the rule that must raise it
RULE_OF = {
    "sybil_swarm": "sybil_swarm",
    "self_gifting_loop": "self_gifting_loop",
    "burst_then_withdraw": "burst_then_withdraw",
    "unauthorized_attempts": "unauthorized_attempts",
    "pause_unpause": "admin_pause",
    "rebind": "rebind",
    "new_destination_withdrawal": "new_destination_withdrawal",
}


@dataclass
class Filled:
    net: Localnet
    truth: dict[str, Any]
    ctx: JobContext


@pytest.fixture
async def filled(db_url: str, db_pool: asyncpg.Pool) -> AsyncIterator[Filled]:
    async with local_chain(slot_ms=40, finality_depth=4) as net:
        truth = await simulate_and_index(net, db_url, db_pool, seed=61, incidents=True)
        yield Filled(net, truth, JobContext(db_pool, JobSettings(rpc_url=net.rpc_url)))


async def anomalies(pool: asyncpg.Pool) -> list[dict[str, Any]]:
    async with pool.acquire() as conn:
        rows = await conn.fetch("SELECT rule, severity, creator, evidence::text AS evidence, dedup_key FROM anomalies")
    return [{**dict(r), "evidence": json.loads(r["evidence"])} for r in rows]


async def test_every_incident_is_raised_by_its_rule(filled: Filled) -> None:
    results = await run_jobs(filled.ctx)
    assert [r.error for r in results] == [None] * len(results), results
    found = await anomalies(filled.ctx.pool)
    for incident in filled.truth["incidents"]:
        rule = RULE_OF[incident["kind"]]
        mine = [
            a
            for a in found
            if a["rule"] == rule and (incident.get("creator") is None or a["creator"] in (None, incident["creator"]))
        ]
        assert mine, f"{incident['kind']}: no {rule} anomaly"
        evidence = {s for a in mine for s in a["evidence"]["signatures"]}
        program_signatures = set(incident["signatures"])
        if incident["kind"] == "pause_unpause":
            program_signatures = {incident["signatures"][0]}  # the pause itself; the refused gift is a failure
        if incident["kind"] == "unauthorized_attempts":
            assert mine[0]["evidence"]["wallet"] == incident["attacker"]
        missing = program_signatures - evidence
        assert not missing, (incident["kind"], missing)
    # running again raises nothing new: one incident, one alert
    before = len(found)
    await run_jobs(filled.ctx, ["anomalies"])
    assert len(await anomalies(filled.ctx.pool)) == before


async def test_clean_traffic_raises_nothing_high(db_url: str, db_pool: asyncpg.Pool) -> None:
    async with local_chain(slot_ms=40, finality_depth=4) as net:
        await simulate_and_index(net, db_url, db_pool, seed=62, incidents=False)
        results = await run_jobs(JobContext(db_pool, JobSettings(rpc_url=net.rpc_url)))
    assert [r.error for r in results] == [None] * len(results)
    serious = [a for a in await anomalies(db_pool) if a["severity"] in ("high", "critical")]
    assert serious == []


async def test_reconciliation_passes_then_catches_a_tampered_row(filled: Filled) -> None:
    await wait_until_indexed(filled.ctx.pool, filled.net)  # everything finalized
    await asyncio.sleep(0.3)
    ctx = filled.ctx
    (result,) = await run_jobs(ctx, ["reconcile"])
    token_vaults = sum(t["gift_count"] > 0 for c in filled.truth["creators"] for t in c["tokens"].values())
    assert token_vaults >= 1  # the meme token's vaults are checked too
    assert result.error is None and result.rows == len(filled.truth["creators"]) + token_vaults
    assert ctx.notes["reconcile"]["verdict"] == "match" and ctx.notes["reconcile"]["mismatches"] == []
    assert ctx.notes["reconcile"]["vaults"] == len(filled.truth["creators"]) + token_vaults
    async with ctx.pool.acquire() as conn:
        victim = await conn.fetchrow("SELECT signature, creator, amount FROM gifts WHERE mint IS NULL LIMIT 1")
        await conn.execute("UPDATE gifts SET amount = amount + 1000 WHERE signature = $1", victim["signature"])
        token = await conn.fetchrow("SELECT signature, creator, mint FROM gifts WHERE mint IS NOT NULL LIMIT 1")
        await conn.execute("UPDATE gifts SET amount = amount + 7 WHERE signature = $1", token["signature"])
    await run_jobs(ctx, ["reconcile"])
    assert ctx.notes["reconcile"]["verdict"] == "mismatch"
    critical = {a["evidence"]["mint"]: a for a in await anomalies(ctx.pool) if a["rule"] == "reconciliation"}
    assert sorted(critical, key=str) == sorted([None, token["mint"]], key=str)
    assert all(a["severity"] == "critical" for a in critical.values())
    assert critical[None]["creator"] == victim["creator"]
    assert critical[None]["evidence"]["warehouse"] - critical[None]["evidence"]["chain"] == 1000
    assert critical[token["mint"]]["creator"] == token["creator"]
    assert critical[token["mint"]]["evidence"]["warehouse"] - critical[token["mint"]]["evidence"]["chain"] == 7


async def creator_tables(pool: asyncpg.Pool) -> dict[str, list[str]]:
    """Every row the creator analytics job writes, by table, to compare an incremental run with a full one."""
    tables = ("creator_daily_earnings", "post_earnings", "top_supporters", "escrow_ledger", "payout_summaries",
              "payout_totals")  # fmt: skip
    async with pool.acquire() as conn:
        return {t: sorted(str(tuple(r)) for r in await conn.fetch(f"SELECT * FROM {t}")) for t in tables}


async def test_incremental_equals_full_and_a_failing_job_stops_nothing(
    filled: Filled, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx = filled.ctx

    await run_jobs(ctx, ["creator_analytics"])  # the first run computes everything
    await run_jobs(ctx, ["creator_analytics"])  # an incremental one after it changes nothing
    incremental = await creator_tables(ctx.pool)
    ctx.full = True
    await run_jobs(ctx, ["creator_analytics"])
    assert await creator_tables(ctx.pool) == incremental
    assert sum(len(v) for v in incremental.values()) > 20

    async def broken(_: JobContext) -> int:
        raise RuntimeError("the disk is on fire")

    monkeypatch.setitem(runner.JOBS, "platform_analytics", broken)
    results = await run_jobs(ctx, ["platform_analytics", "anomalies"])
    assert results[0].error is not None and "the disk is on fire" in results[0].error
    assert results[1].error is None and results[1].rows > 0
    async with ctx.pool.acquire() as conn:
        recorded = await conn.fetch(
            "SELECT job, error IS NOT NULL AS failed, finished_at IS NOT NULL AS done FROM job_runs "
            "WHERE job IN ('platform_analytics', 'anomalies') ORDER BY id DESC LIMIT 2"
        )
    assert [tuple(r) for r in recorded] == [("anomalies", False, True), ("platform_analytics", True, True)]


async def _copy_row(conn: asyncpg.Connection, table: str, of: str, **changes: Any) -> None:
    """Insert a copy of `table`'s row for signature `of`, with some columns changed."""
    row = dict(await conn.fetchrow(f"SELECT * FROM {table} WHERE signature = $1 LIMIT 1", of))
    row.update(changes)
    marks = ", ".join(f"${i}" for i in range(1, len(row) + 1))
    await conn.execute(f"INSERT INTO {table} ({', '.join(row)}) VALUES ({marks})", *row.values())


async def test_incremental_follows_new_promoted_and_removed_facts(filled: Filled) -> None:
    """Facts arrive, are promoted and are removed (a dead slot) between runs: the incremental run still
    equals a full recompute, including for a creator whose only change was a removed withdrawal."""
    from warehouse.sink import _COMMITTED, Sink

    ctx = filled.ctx

    async with ctx.pool.acquire() as conn:
        for table in _COMMITTED:  # everything so far is final
            await conn.execute(f"UPDATE {table.name} SET commitment = 'finalized'")
        top = await conn.fetchval("SELECT max(slot) FROM transactions")
        withdrawal = await conn.fetchrow("SELECT signature, creator FROM withdrawals LIMIT 1")
        gift = await conn.fetchrow("SELECT signature FROM gifts WHERE creator <> $1 LIMIT 1", withdrawal["creator"])
        # a withdrawal after everything else, only confirmed: its creator's one and last fact since the run
        dead_sig = "N" + withdrawal["signature"][:80]
        for table in ("transactions", "withdrawals"):
            await _copy_row(conn, table, withdrawal["signature"], signature=dead_sig, slot=top + 100,
                            commitment="confirmed")  # fmt: skip
    await run_jobs(ctx, ["creator_analytics"])
    before = await creator_tables(ctx.pool)
    assert any(str(top + 100) in row for row in before["payout_summaries"])
    # its slot dies; a gift to another creator arrives after it and is promoted
    await Sink(ctx.pool).finalize([], [top + 100], cursor_name="test")
    async with ctx.pool.acquire() as conn:
        for table in ("transactions", "gifts"):
            await _copy_row(conn, table, gift["signature"], signature="M" + gift["signature"][:80], slot=top + 200,
                            commitment="confirmed")  # fmt: skip
    await Sink(ctx.pool).finalize([top + 200], [], cursor_name="test")
    await run_jobs(ctx, ["creator_analytics"])
    incremental = await creator_tables(ctx.pool)
    assert incremental != before
    ctx.full = True
    await run_jobs(ctx, ["creator_analytics"])
    assert await creator_tables(ctx.pool) == incremental


async def test_new_high_anomalies_go_to_the_webhook_signed_and_retried(filled: Filled) -> None:
    received: list[tuple[bytes, str]] = []
    calls = {"n": 0}

    async def hook(request: Request) -> Response:
        calls["n"] += 1
        if calls["n"] == 1:
            return Response(status_code=503)  # the first attempt fails: the delivery is retried
        received.append((await request.body(), request.headers["x-memefans-signature"]))
        return Response(status_code=204)

    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(Starlette(routes=[Route("/hook", hook, methods=["POST"])]), port=port, log_level="warning")
    )
    serving = asyncio.create_task(server.serve())
    for _ in range(250):
        if server.started:
            break
        await asyncio.sleep(0.02)
    try:
        settings = JobSettings(
            rpc_url=filled.net.rpc_url, webhook_url=f"http://127.0.0.1:{port}/hook", webhook_secret="s3cret"
        )
        ctx = JobContext(filled.ctx.pool, settings)
        await run_jobs(ctx, ["funding", "anomalies"])
    finally:
        server.should_exit = True
        await serving
    serious = [a for a in await anomalies(ctx.pool) if a["severity"] in ("high", "critical")]
    assert len(received) == len(serious) > 0
    for body, signature in received:
        assert signature == "sha256=" + hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
        assert json.loads(body)["severity"] in ("high", "critical")
    async with ctx.pool.acquire() as conn:
        attempts = await conn.fetch("SELECT attempt, status_code FROM webhook_deliveries ORDER BY id")
    assert [tuple(a) for a in attempts[:2]] == [(1, 503), (2, 204)]
    assert len(attempts) == len(serious) + 1


async def test_schedules_survive_a_scheduler_restart(db_url: str, db_pool: asyncpg.Pool) -> None:
    from warehouse.jobs.scheduler import SCHEDULE, build_scheduler, ensure_jobs

    settings = JobSettings(analytics_every_s=3600, anomalies_every_s=1800, reconcile_every_s=7200, misfire_grace_s=90)
    first = build_scheduler(db_pool, settings, db_url)
    first.start(paused=True)
    assert ensure_jobs(first, settings) == list(SCHEDULE)
    stored = {job.id: job.next_run_time for job in first.get_jobs()}
    first.shutdown(wait=False)

    second = build_scheduler(db_pool, settings, db_url)
    second.start(paused=True)
    try:
        assert ensure_jobs(second, settings) == []  # nothing re-added: the store kept them
        assert {job.id: job.next_run_time for job in second.get_jobs()} == stored
        job = second.get_job("reconcile")
        assert job is not None and job.trigger.interval.total_seconds() == 7200
        assert (job.coalesce, job.max_instances, job.misfire_grace_time) == (True, 1, 90)
    finally:
        second.shutdown(wait=False)
    async with db_pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM apscheduler_jobs") == len(SCHEDULE)


async def test_a_stalled_indexer_raises_the_lag_anomaly(filled: Filled) -> None:
    """The lag rule sees an indexer that stopped writing its cursor, not only the lag it last wrote."""
    ctx = filled.ctx
    limit = ctx.settings.max_lag_seconds

    async def lag_anomalies() -> list[dict[str, Any]]:
        return [a for a in await anomalies(ctx.pool) if a["rule"] == "indexer_lag"]

    async with ctx.pool.acquire() as conn:
        await conn.execute("UPDATE cursors SET details = details || '{\"lag_seconds\": 0.5}', updated_at = now()")
    await run_jobs(ctx, ["anomalies"])
    assert await lag_anomalies() == []
    async with ctx.pool.acquire() as conn:  # the indexer died: its cursor was last written long ago
        await conn.execute("UPDATE cursors SET updated_at = now() - make_interval(secs => $1)", limit * 3)
    await run_jobs(ctx, ["anomalies"])
    (found,) = await lag_anomalies()
    assert found["severity"] == "high"
    assert limit * 3 <= found["evidence"]["lag_seconds"] < limit * 3 + 60
