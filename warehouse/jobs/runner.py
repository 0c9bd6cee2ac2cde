"""The jobs: each a name and a coroutine over the warehouse; every run recorded in `job_runs` (start, end,
rows, error); a failing job is recorded and does not stop the others.

- `creator_analytics` (incremental): daily earnings, per-post attribution, top supporters, the escrow ledger,
  payouts and their totals per creator, recomputed whole for the creators whose facts changed since the
  watermark (new rows, rows that were still pending and may since have been promoted or removed), so that
  incremental equals a full recompute;
- `platform_analytics`: gift size buckets, supporter cohorts, daily platform KPIs and batch payouts;
- `funding`: who funded the wallets that gifted (over RPC, bounded, cached);
- `anomalies`: every rule over the facts; new anomalies are delivered to the webhook;
- `reconcile`: each vault's balance on chain at a finalized slot against the warehouse at that slot, once
  the warehouse has provably passed it (a reading waits in the watermark until then).
"""

from __future__ import annotations

import json
import time
import traceback
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import asyncpg

from warehouse.freshness import LATEST_CURSOR
from warehouse.jobs import io, rules, transforms
from warehouse.jobs.frames import records
from warehouse.jobs.settings import JobSettings

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
    notes: dict[str, Any] = field(default_factory=dict)  # what the run left in job_runs.watermark


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
        lag = await conn.fetchrow(LATEST_CURSOR)  # slot and lag_now: the one definition of freshness
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


# readings kept while the warehouse has not passed their slot (the newest; an older one is superseded anyway)
RECONCILE_PENDING = 10
SIGNATURES_SHOWN = 200  # a mismatch's evidence lists at most this many of the vault's signatures

# each vault's balance in the warehouse's facts at or below a slot (confirmed rows count, finalized or not)
_BOOKS = """SELECT creator, mint, sum(amount) AS balance FROM (
    SELECT creator, coalesce(mint, '') AS mint, amount - fee AS amount FROM gifts WHERE slot <= $1
    UNION ALL SELECT creator, coalesce(mint, '') AS mint, -amount FROM withdrawals WHERE slot <= $1
) moves GROUP BY creator, mint"""

# the warehouse's transactions that moved one vault in a slot range (after $3, up to $4)
_MOVED = """SELECT signature, min(slot) AS slot FROM (
    SELECT signature, slot FROM gifts WHERE creator = $1 AND coalesce(mint, '') = $2 AND slot > $3 AND slot <= $4
    UNION ALL SELECT signature, slot FROM withdrawals
     WHERE creator = $1 AND coalesce(mint, '') = $2 AND slot > $3 AND slot <= $4
) moved GROUP BY signature ORDER BY min(slot), signature"""


async def reconcile(ctx: JobContext) -> int:
    """Each vault on chain (SOL, and every token a creator was gifted) read at finalized commitment, against
    the warehouse's facts at the reading's slot, once the warehouse has provably passed that slot.

    Two phases, so that traffic that never pauses still gets a verdict: each run (a) takes a new reading
    (balances as of the context slot S of a finalized reply: a rooted slot, nothing at or below it changes)
    and keeps it pending in the job's watermark, and (b) judges the newest pending reading the warehouse
    has passed, dropping the older ones (the facts at or below an older slot are part of those at or below
    a newer one, and balances are cumulative, so a discrepancy at the older slot is still there at the
    newer one, and one aggregation a run answers the freshest). Its verdict: match, mismatch, or skipped
    with the reason (the reading then waits for the next run)."""
    from warehouse.jobs.chain import read_vaults

    async with ctx.pool.acquire() as conn:
        creators = [r["creator"] for r in await conn.fetch("SELECT creator FROM creators ORDER BY creator")]
        pairs = [(r["creator"], r["mint"]) for r in await conn.fetch(
            "SELECT DISTINCT creator, mint FROM gifts WHERE mint IS NOT NULL ORDER BY creator, mint"
        )]  # fmt: skip
        mark = await _watermark(conn, "reconcile")
    pending: list[dict[str, Any]] = [p for p in mark.get("pending") or [] if isinstance(p, dict)]
    if creators:
        reading = await read_vaults(ctx.settings.rpc_url, creators, pairs)
        # a pending slot above the new one belongs to another history (the chain was reset): dropped
        pending = [p for p in pending if int(p["slot"]) < reading.slot][1 - RECONCILE_PENDING :]
        pending.append({"slot": reading.slot, "read_at": time.time(), "vaults": [list(v) for v in reading.vaults()]})
    rows = 0
    if not pending:
        notes: dict[str, Any] = _skipped("no creator in the warehouse yet", None)
    else:
        proven, why = await _proven_slot(ctx, int(pending[-1]["slot"]))
        passed = [p for p in pending if proven is not None and int(p["slot"]) <= proven]
        if not passed:
            notes = _skipped(why, int(pending[-1]["slot"]))
        else:
            chosen, later = passed[-1], pending[len(passed) :]
            since = mark.get("last_match_slot")
            notes = await _judge(ctx, chosen, None if since is None else int(since))
            if notes["verdict"] == "skipped":
                pending = [chosen, *later]  # judged again next run
            else:
                pending = later
                rows = int(notes["vaults"])
                if notes["verdict"] == "match":
                    mark["last_match_slot"] = chosen["slot"]
                mark["verdict"] = {k: notes[k] for k in ("verdict", "slot", "vaults", "read_at")} | {
                    "mismatches": len(notes["mismatches"]), "judged_at": time.time()}  # fmt: skip
    notes["waiting"] = len(pending)  # readings the warehouse has not passed yet, judged by a later run
    mark["pending"] = pending
    async with ctx.pool.acquire() as conn:
        await _set_watermark(conn, "reconcile", mark)
    ctx.notes["reconcile"] = notes
    return rows


def _skipped(reason: str, slot: int | None) -> dict[str, Any]:
    return {"verdict": "skipped", "reason": reason, "slot": slot, "vaults": 0, "mismatches": []}


async def _proven_slot(ctx: JobContext, slot: int) -> tuple[int | None, str]:
    """The highest slot up to `slot` at or below which the warehouse holds every program transaction, and
    why it is not `slot` when it is not. The proof is the indexer's cursor: the sink commits it with the
    rows, and the indexer moves it only after delivering every transaction listed before it, oldest first
    (its sweeps fail closed). A cursor at a slot above S therefore vouches for every transaction at or below
    S. A cursor at or below S (a quiet program: a backfill leaves the cursor on the last transaction)
    vouches for what precedes its signature; the chain then says what comes after it at finalized
    commitment, and the warehouse is complete below the first such transaction's slot."""
    from warehouse.jobs.chain import newer_signatures

    async with ctx.pool.acquire() as conn:
        cursors = await conn.fetch("SELECT name, slot, signature FROM cursors ORDER BY slot")
    if not cursors:
        return None, "the indexer has not written a cursor yet"
    proven, why = slot, ""
    for cursor in cursors:  # one per program followed (the cursor is named after it); each must have passed
        if int(cursor["slot"]) > slot:
            continue
        unseen = [at for _, at in await newer_signatures(ctx.settings.rpc_url, cursor["name"], cursor["signature"])]
        behind = [at for at in unseen if at <= slot]
        if behind:
            proven = min(proven, min(behind) - 1)
            why = (f"{len(behind)} program transactions at or below slot {slot} are not indexed yet "
                   f"(the indexer's cursor is at slot {cursor['slot']})")  # fmt: skip
    return proven, why


async def _judge(ctx: JobContext, reading: dict[str, Any], since: int | None) -> dict[str, Any]:
    """One reading against the warehouse: the verdict, and for each vault that differs the creator, the mint,
    both balances and the warehouse's transactions on that vault since the last matching reading."""
    from warehouse.jobs.chain import rooted_slots

    slot = int(reading["slot"])
    vaults = [(str(c), str(m), None if a is None else int(a), int(at)) for c, m, a, at in reading["vaults"]]
    async with ctx.pool.acquire() as conn:
        books = {at: {(r["creator"], r["mint"]): int(r["balance"]) for r in await conn.fetch(_BOOKS, at)}
                 for at in sorted({at for *_, at in vaults})}  # fmt: skip
    # no account on chain holds nothing: a vault created after the reading's slot, or a token never received
    differ = [(c, m, a, at, books[at].get((c, m), 0)) for c, m, a, at in vaults if (a or 0) != books[at].get((c, m), 0)]
    base = {"slot": slot, "vaults": len(vaults), "read_at": reading.get("read_at")}
    if differ:
        # confirmed rows at or below the slot from a slot that died: the indexer's finality pass removes them
        # shortly; until then they are no evidence of a mismatch, and the reading waits for the next run
        async with ctx.pool.acquire() as conn:
            unsettled = {int(r["slot"]) for r in await conn.fetch(
                "SELECT DISTINCT slot FROM transactions WHERE commitment = 'confirmed' AND slot <= $1", slot
            )}  # fmt: skip
        dead = sorted(unsettled - await rooted_slots(ctx.settings.rpc_url, min(unsettled), slot)) if unsettled else []
        if dead:
            return _skipped(f"the warehouse still holds rows of slot(s) {', '.join(map(str, dead[:5]))}, which "
                            f"never finalized; the indexer's finality pass removes them", slot)  # fmt: skip
    mismatches, found = [], []
    for creator, mint, on_chain, at, ours in differ:
        async with ctx.pool.acquire() as conn:
            moved = await conn.fetch(_MOVED, creator, mint, -1 if since is None else since, at)
        evidence = {"creator": creator, "mint": mint or None, "chain": on_chain, "warehouse": ours, "slot": at,
                    "since_slot": since, "signature_count": len(moved),
                    "signatures": [r["signature"] for r in moved[:SIGNATURES_SHOWN]]}  # fmt: skip
        mismatches.append(evidence)
        unit = "lamports" if not mint else f"base units of {mint}"
        what = "vault" if not mint else "token vault"
        found.append(rules.Anomaly(
            "reconciliation", "critical",
            # one anomaly per discrepancy: the same vault still differing later updates its evidence
            f"reconciliation:{creator}:{mint + ':' if mint else ''}since:{since}",
            f"{what} holds {on_chain} {unit} on chain at slot {at}, the warehouse says {ours}",
            {k: v for k, v in evidence.items() if k != "creator"}, creator,
        ))  # fmt: skip
    if found:
        async with ctx.pool.acquire() as conn, conn.transaction():
            await io.upsert_anomalies(conn, found)
    return {"verdict": "mismatch" if mismatches else "match", **base, "mismatches": mismatches}


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
        results.append(JobResult(name, rows, time.perf_counter() - started, error, dict(ctx.notes)))
    return results
