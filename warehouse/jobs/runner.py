"""The jobs: each a name and a coroutine over the warehouse; every run recorded in `job_runs` (start, end,
rows, error); a failing job is recorded and does not stop the others.

- `creator_analytics` (incremental): daily earnings, per-post attribution, top supporters, the escrow ledger,
  payouts and their totals per creator, recomputed whole for the creators whose facts changed since the
  watermark (new rows, rows that were still pending and may since have been promoted or removed), so that
  incremental equals a full recompute;
- `platform_analytics`: gift size buckets, supporter cohorts, daily platform KPIs and batch payouts;
- `funding`: who funded the wallets that gifted (over RPC, bounded, cached);
- `anomalies`: every rule over the facts; new anomalies are delivered to the webhook;
- `reconcile`: each vault's balance on chain at a finalized slot against the warehouse at that slot.
"""

from __future__ import annotations

import asyncio
import json
import time
import traceback
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import asyncpg

from warehouse.jobs import io, rules, transforms
from warehouse.jobs.frames import records
from warehouse.jobs.settings import JobSettings
from warehouse.queries.dashboard import LAG_NOW

__all__ = ["JOBS", "JobContext", "JobResult", "run_jobs"]


@dataclass
class JobContext:
    pool: asyncpg.Pool
    settings: JobSettings
    full: bool = False  # recompute everything instead of what changed since the watermark
    notes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class JobResult:
    job: str
    rows: int
    seconds: float
    error: str | None = None


async def _watermark(conn: asyncpg.Connection, job: str) -> dict[str, Any]:
    raw = await conn.fetchval("SELECT value FROM job_watermarks WHERE job = $1", job)
    return dict(json.loads(raw) if isinstance(raw, str) else raw or {})


async def _set_watermark(conn: asyncpg.Connection, job: str, value: dict[str, Any]) -> None:
    await conn.execute(
        "INSERT INTO job_watermarks (job, value) VALUES ($1, $2::jsonb) "
        "ON CONFLICT (job) DO UPDATE SET value = EXCLUDED.value, updated_at = now()",
        job,
        json.dumps(value),
    )


# the creators with facts at or after a slot (optionally only facts still pending)
_FACTS_SINCE = " UNION ".join(
    f"SELECT creator FROM {table} WHERE slot >= $1{{pending}}"
    for table in ("gifts", "withdrawals", "creator_bindings", "creators")
)


async def creator_analytics(ctx: JobContext) -> int:
    async with ctx.pool.acquire() as conn, conn.transaction():
        mark = {} if ctx.full else await _watermark(conn, "creator_analytics")
        since = mark.get("recompute_from")
        high = await conn.fetchval("SELECT coalesce(max(slot), 0) FROM transactions")
        pending_low = await conn.fetchval("SELECT min(slot) FROM transactions WHERE commitment = 'confirmed'")
        creators: list[str] | None = None
        if since is not None and "pending_creators" in mark:
            # the creators with new facts, and those that had facts still pending last time: a pending fact
            # may since have been promoted or removed (its slot died), which leaves no row to find it by
            changed = await conn.fetch(_FACTS_SINCE.format(pending=""), int(since))
            creators = sorted({r["creator"] for r in changed} | set(mark["pending_creators"]))
        gifts = await io.load_gifts(conn, creators)
        withdrawals = await io.load_withdrawals(conn, creators)
        known = await io.load_creators(conn, creators)
        bindings = await io.load_bindings(conn, creators)
        rows = 0
        rows += await io.replace_rows(
            conn, "creator_daily_earnings", transforms.daily_earnings(gifts), creators=creators
        )
        rows += await io.replace_rows(conn, "post_earnings", transforms.post_earnings(gifts), creators=creators)
        rows += await io.replace_rows(conn, "top_supporters", transforms.top_supporters(gifts), creators=creators)
        rows += await io.replace_rows(
            conn, "escrow_ledger", transforms.escrow_ledger(gifts, known, bindings), creators=creators
        )
        rows += await io.replace_rows(
            conn, "payout_summaries", transforms.payout_summaries(withdrawals), creators=creators
        )
        rows += await io.replace_rows(conn, "payout_totals", transforms.payout_totals(withdrawals), creators=creators)
        # next time: the rows after the newest seen, or after the indexer's cursor if it is behind them (rows
        # above the cursor may still be joined by older ones, a gap it backfills), and the creators whose rows
        # may still change
        cursor = await conn.fetchval("SELECT min(slot) FROM cursors")
        after = high + 1 if cursor is None else min(high + 1, int(cursor) + 1)
        low = high + 1 if pending_low is None else int(pending_low)  # the oldest pending transaction's slot
        pending = await conn.fetch(_FACTS_SINCE.format(pending=" AND commitment = 'confirmed'"), low)
        await _set_watermark(
            conn,
            "creator_analytics",
            {"recompute_from": after, "pending_creators": sorted({r["creator"] for r in pending})},
        )
        ctx.notes["creators"] = len(creators) if creators is not None else len(known)
        return rows


async def platform_analytics(ctx: JobContext) -> int:
    async with ctx.pool.acquire() as conn, conn.transaction():
        gifts = await io.load_gifts(conn)
        withdrawals = await io.load_withdrawals(conn)
        rows = await io.replace_rows(conn, "gift_size_buckets", transforms.gift_size_buckets(gifts))
        rows += await io.replace_rows(conn, "supporter_cohorts", transforms.supporter_cohorts(gifts))
        values = transforms.vault_value_by_day(gifts, withdrawals)
        rows += await io.replace_rows(conn, "platform_kpis_daily", transforms.platform_kpis(gifts, values))
        rows += await io.replace_rows(conn, "payout_batches", transforms.payout_batches(withdrawals))
        return rows


async def funding(ctx: JobContext) -> int:
    from warehouse.jobs.chain import fetch_funders

    async with ctx.pool.acquire() as conn:
        fans = [r["fan"] for r in await conn.fetch("SELECT fan FROM gifts GROUP BY fan ORDER BY min(slot)")]
    return await fetch_funders(ctx.pool, ctx.settings.rpc_url, fans, limit=ctx.settings.funding_per_run)


async def anomalies(ctx: JobContext) -> int:
    settings = ctx.settings.rules
    async with ctx.pool.acquire() as conn:
        gifts = await io.load_gifts(conn)
        withdrawals = await io.load_withdrawals(conn)
        failed = await io.load_failed(conn)
        admin = await io.load_admin(conn)
        funded = await io.load_funding(conn)
        transactions = await io.load_transactions(conn)
        creators = await io.load_creators(conn)
        lag = await conn.fetchrow(f"SELECT slot, {LAG_NOW} FROM cursors ORDER BY updated_at DESC LIMIT 1")
    authorities = {str(c["creator"]): str(c["authority"]) for c in records(creators) if c["authority"]}
    found = [
        *rules.large_withdrawals(withdrawals, settings),
        *rules.burst_then_withdraw(gifts, withdrawals, settings),
        *rules.unauthorized_attempts(failed, settings),
        *rules.admin_actions(admin, settings),
        *rules.new_destination_withdrawals(withdrawals, authorities),
        *rules.sybil_swarms(gifts, funded, settings),
        *rules.self_gifting_loops(gifts, withdrawals, funded),
        *rules.failure_spike(transactions, settings),
        *_indexer_lag(lag, ctx.settings.max_lag_seconds),
    ]
    async with ctx.pool.acquire() as conn, conn.transaction():
        new = await io.upsert_anomalies(conn, found)
    ctx.notes["new_anomalies"] = new
    if new and ctx.settings.webhook_url:
        from warehouse.jobs.webhooks import deliver

        await deliver(ctx.pool, ctx.settings, new)
    return len(found)


def _indexer_lag(cursor: asyncpg.Record | None, max_lag_seconds: float) -> list[rules.Anomaly]:
    if cursor is None or float(cursor["lag_now"]) <= max_lag_seconds:
        return []
    lag = round(float(cursor["lag_now"]), 1)
    hour = datetime.now(UTC).strftime("%Y-%m-%dT%H")
    return [rules.Anomaly("indexer_lag", "high", f"indexer_lag:{hour}", f"the indexer is {lag:.0f} s behind",
                          {"signatures": [], "lag_seconds": lag, "cursor_slot": int(cursor["slot"])})]  # fmt: skip


async def reconcile(ctx: JobContext) -> int:
    """At a finalized slot the indexer has passed, each vault on chain (SOL, and every token a creator was
    gifted) against the warehouse at that slot."""
    from warehouse.jobs.chain import newer_signatures, read_vaults

    async with ctx.pool.acquire() as conn:
        creators = [r["creator"] for r in await conn.fetch("SELECT creator FROM creators ORDER BY creator")]
        pairs = [(r["creator"], r["mint"]) for r in await conn.fetch(
            "SELECT DISTINCT creator, mint FROM gifts WHERE mint IS NOT NULL ORDER BY creator, mint"
        )]  # fmt: skip
        cursor = await conn.fetchrow("SELECT name, slot, signature FROM cursors ORDER BY slot DESC LIMIT 1")
    if not creators or cursor is None:
        return 0
    first = await read_vaults(ctx.settings.rpc_url, creators, pairs)
    await asyncio.sleep(ctx.settings.reconcile_settle_s)
    reading = await read_vaults(ctx.settings.rpc_url, creators, pairs)
    # a vault whose balance moved between the two readings has money in flight: it is left for the next run
    moving = {(c, "") for c, balance in reading.balances.items() if first.balances.get(c) != balance}
    moving |= {pair for pair, amount in reading.tokens.items() if first.tokens.get(pair) != amount}
    # the warehouse is complete up to the reading's slot when the program has no transaction after the
    # indexer's cursor at or below that slot (the cursor is named after the program it follows)
    unseen = await newer_signatures(ctx.settings.rpc_url, cursor["name"], cursor["signature"])
    behind = [s for s, slot in unseen if slot <= reading.slot]
    if behind:
        ctx.notes["reconcile"] = f"skipped: {len(behind)} transactions up to slot {reading.slot} are not indexed yet"
        return 0
    async with ctx.pool.acquire() as conn:
        books = {
            (r["creator"], r["mint"]): int(r["balance"])
            for r in await conn.fetch(
                "SELECT creator, mint, sum(amount) AS balance FROM ("
                " SELECT creator, coalesce(mint, '') AS mint, amount - fee AS amount FROM gifts WHERE slot <= $1"
                " UNION ALL SELECT creator, coalesce(mint, '') AS mint, -amount FROM withdrawals WHERE slot <= $1"
                ") moves GROUP BY creator, mint",
                reading.slot,
            )
        }
    chain = {(c, ""): b for c, b in reading.balances.items()} | dict(reading.tokens)
    found = []
    for (creator, mint), on_chain in sorted(chain.items()):  # keys are unique: ordered by creator, then mint
        ours = books.get((creator, mint), 0)
        if on_chain == ours or (creator, mint) in moving or (mint and on_chain is None and ours == 0):
            continue
        unit = "lamports" if not mint else f"base units of {mint}"
        what = "vault" if not mint else "token vault"
        found.append(rules.Anomaly(
            "reconciliation", "critical", f"reconciliation:{creator}:{mint + ':' if mint else ''}{reading.slot}",
            f"{what} holds {on_chain} {unit} on chain, the warehouse says {ours}",
            {"signatures": [], "slot": reading.slot, "mint": mint or None, "chain": on_chain, "warehouse": ours},
            creator,
        ))  # fmt: skip
    async with ctx.pool.acquire() as conn, conn.transaction():
        await io.upsert_anomalies(conn, found)
    ctx.notes["reconcile"] = {"slot": reading.slot, "vaults": len(chain) - len(moving), "in_flight": len(moving),
                              "token_vaults": len(reading.tokens), "mismatches": len(found)}  # fmt: skip
    return len(chain)


JOBS: dict[str, Callable[[JobContext], Awaitable[int]]] = {
    "creator_analytics": creator_analytics,
    "platform_analytics": platform_analytics,
    "funding": funding,
    "anomalies": anomalies,
    "reconcile": reconcile,
}


async def run_jobs(ctx: JobContext, names: Sequence[str] | None = None) -> list[JobResult]:
    """Run the named jobs (all, in order, by default); each run recorded in job_runs."""
    unknown = [n for n in names or () if n not in JOBS]
    if unknown:
        raise ValueError(f"unknown job(s) {', '.join(unknown)}; known: {', '.join(JOBS)}")
    results = []
    for name in names or list(JOBS):
        async with ctx.pool.acquire() as conn:
            run_id = await conn.fetchval("INSERT INTO job_runs (job, started_at) VALUES ($1, now()) RETURNING id", name)
        started = time.perf_counter()
        rows, error = 0, None
        ctx.notes = {}
        try:
            rows = await JOBS[name](ctx)
        except Exception as exc:  # a failing job is recorded and does not stop the others
            error = f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=5)}"
        async with ctx.pool.acquire() as conn:
            await conn.execute(
                "UPDATE job_runs SET finished_at = now(), rows = $2, error = $3, watermark = $4::jsonb WHERE id = $1",
                run_id, rows, error, json.dumps(ctx.notes, default=str),
            )  # fmt: skip
        results.append(JobResult(name, rows, time.perf_counter() - started, error))
    return results
