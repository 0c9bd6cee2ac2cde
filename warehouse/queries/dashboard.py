"""The dashboard's reads (and the one write it needs, an admin's verdict on an anomaly): every SELECT the
Dash app runs, each a small coroutine returning plain rows, so that pages never write SQL."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import asyncpg

from warehouse.freshness import LAG_NOW as _LAG_NOW
from warehouse.freshness import freshness

__all__ = [
    "GIFT_SORTS",
    "LAG_NOW",
    "admin_audit",
    "anomalies",
    "creator_by_key",
    "creator_gifts_page",
    "creator_mints",
    "creator_token_totals",
    "creator_withdrawals",
    "creators_of_authority",
    "daily_earnings",
    "escrow",
    "indexer_health",
    "indexer_lag",
    "payout_batches",
    "payout_totals",
    "platform_kpis",
    "post_earnings",
    "reconciliation_status",
    "set_anomaly_status",
    "statement",
    "top_supporters",
]

STATUSES = ("open", "acknowledged", "resolved", "false_positive")

# the indexer's lag now, as a column `lag_now`: the one definition in warehouse.freshness
LAG_NOW = f"{_LAG_NOW} AS lag_now"


def _rows(records: list[asyncpg.Record]) -> list[dict[str, Any]]:
    return [dict(r) for r in records]


async def creator_by_key(pool: asyncpg.Pool, creator: str) -> dict[str, Any] | None:
    async with pool.acquire() as conn:
        row = await conn.fetchrow(
            "SELECT platform, handle, creator, authority, gifted, fees, withdrawn, balance, settled_balance, "
            "gift_count FROM creator_balances WHERE creator = $1",
            creator,
        )
    return dict(row) if row else None


async def daily_earnings(pool: asyncpg.Pool, creator: str, start: date, end: date) -> list[dict[str, Any]]:
    async with pool.acquire() as conn:
        return _rows(await conn.fetch(
            "SELECT day, mint, settled_gross, settled_fees, settled_net, pending_gross, pending_fees, pending_net, "
            "gift_count, unique_fans FROM creator_daily_earnings WHERE creator = $1 AND day BETWEEN $2 AND $3 "
            "ORDER BY day, mint", creator, start, end,
        ))  # fmt: skip


async def top_supporters(pool: asyncpg.Pool, creator: str, mint: str = "") -> list[dict[str, Any]]:
    async with pool.acquire() as conn:
        return _rows(await conn.fetch(
            "SELECT rank, fan, total, gift_count, first_gift_at, last_gift_at FROM top_supporters "
            "WHERE creator = $1 AND mint = $2 ORDER BY rank", creator, mint,
        ))  # fmt: skip


async def post_earnings(pool: asyncpg.Pool, creator: str) -> list[dict[str, Any]]:
    async with pool.acquire() as conn:
        return _rows(await conn.fetch(
            "SELECT post_id, mint, gross, fees, gift_count, unique_fans FROM post_earnings WHERE creator = $1 "
            "ORDER BY gross DESC, post_id LIMIT 100", creator,
        ))  # fmt: skip


async def creator_withdrawals(pool: asyncpg.Pool, creator: str) -> list[dict[str, Any]]:
    async with pool.acquire() as conn:
        return _rows(await conn.fetch(
            "SELECT signature, slot, block_time, destination, coalesce(mint, '') AS mint, amount, by_admin, commitment "
            "FROM withdrawals WHERE creator = $1 ORDER BY slot DESC LIMIT 200", creator,
        ))  # fmt: skip


async def payout_totals(pool: asyncpg.Pool, creator: str) -> list[dict[str, Any]]:
    """The creator's payouts in all, per mint (from the analytics job)."""
    async with pool.acquire() as conn:
        return _rows(await conn.fetch(
            "SELECT mint, payouts, total, admin_payouts, admin_total, last_payout_at FROM payout_totals "
            "WHERE creator = $1 ORDER BY mint", creator,
        ))  # fmt: skip


async def payout_batches(pool: asyncpg.Pool, limit: int = 200) -> list[dict[str, Any]]:
    """The newest batch payouts (from the analytics job)."""
    async with pool.acquire() as conn:
        return _rows(await conn.fetch(
            "SELECT block_time, signature, mint, creators, total, largest FROM payout_batches "
            "ORDER BY slot DESC, signature LIMIT $1", limit,
        ))  # fmt: skip


async def escrow(pool: asyncpg.Pool, creator: str) -> dict[str, Any] | None:
    async with pool.acquire() as conn:
        row = await conn.fetchrow(
            "SELECT waiting_amount, waiting_gifts, oldest_gift_at, bound_at, time_to_bind_seconds FROM escrow_ledger "
            "WHERE creator = $1", creator,
        )  # fmt: skip
    return dict(row) if row else None


async def statement(pool: asyncpg.Pool, creator: str, start: date, end: date) -> list[dict[str, Any]]:
    """Every gift and withdrawal of a creator in [start, end] (UTC days), oldest first: the CSV statement."""
    async with pool.acquire() as conn:
        return _rows(await conn.fetch(
            "SELECT block_time, 'gift' AS kind, signature, fan AS counterparty, coalesce(mint, '') AS mint, amount, "
            "fee, amount - fee AS net, post_id, commitment FROM gifts WHERE creator = $1 "
            "AND block_time >= $2::date AND block_time < $3::date + 1 "
            "UNION ALL SELECT block_time, 'withdrawal', signature, destination, coalesce(mint, ''), amount, 0, "
            "-amount, '', commitment FROM withdrawals WHERE creator = $1 AND block_time >= $2::date "
            "AND block_time < $3::date + 1 "
            "ORDER BY 1, 3", creator, start, end,
        ))  # fmt: skip


async def anomalies(
    pool: asyncpg.Pool, *, severity: str | None = None, rule: str | None = None, status: str | None = None
) -> list[dict[str, Any]]:
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT id, rule, severity, status, title, creator, evidence::text AS evidence, first_seen, last_seen, "
            "acted_by, acted_at, note FROM anomalies WHERE ($1::text IS NULL OR severity = $1) "
            "AND ($2::text IS NULL OR rule = $2) AND ($3::text IS NULL OR status = $3) "
            "ORDER BY array_position(ARRAY['critical','high','medium','low','info'], severity), last_seen DESC "
            "LIMIT 500", severity, rule, status,
        )  # fmt: skip
    return [{**dict(r), "evidence": json.loads(r["evidence"])} for r in rows]


async def set_anomaly_status(pool: asyncpg.Pool, anomaly_id: int, status: str, who: str, note: str = "") -> bool:
    """An admin's verdict, recorded with who and when; False when no such anomaly."""
    if status not in STATUSES:
        raise ValueError(f"status must be one of {', '.join(STATUSES)}")
    async with pool.acquire() as conn:
        done = await conn.execute(
            "UPDATE anomalies SET status = $2, acted_by = $3, acted_at = now(), note = $4 WHERE id = $1",
            anomaly_id, status, who, note,
        )  # fmt: skip
    return str(done).endswith(" 1")


async def indexer_lag(pool: asyncpg.Pool) -> float | None:
    """The indexer's lag now, in seconds (None: nothing indexed yet): the one figure a creator's banner needs."""
    return (await freshness(pool)).lag_seconds


async def indexer_health(pool: asyncpg.Pool) -> dict[str, Any]:
    async with pool.acquire() as conn:
        cursor = await conn.fetchrow(f"SELECT name, slot, signature, details::text AS details, updated_at, {LAG_NOW} "
                                     "FROM cursors ORDER BY updated_at DESC LIMIT 1")  # fmt: skip
        dead = await conn.fetchval("SELECT count(*) FROM dead_letters")
        pending = await conn.fetchval("SELECT count(*) FROM transactions WHERE commitment = 'confirmed'")
        dead_slots = await conn.fetchval("SELECT count(*) FROM slots WHERE status = 'dead'")
        recent = await conn.fetchval(
            "SELECT count(*) FROM decoded_events e JOIN transactions t USING (signature) "
            "WHERE t.block_time > (SELECT max(block_time) FROM transactions) - interval '5 minutes'"
        )
        failed_jobs = await conn.fetchval(
            "SELECT count(*) FROM job_runs WHERE error IS NOT NULL AND started_at > now() - interval '1 day'"
        )
        runs = _rows(await conn.fetch(
            "SELECT DISTINCT ON (job) job, started_at, finished_at, rows, error IS NOT NULL AS failed, "
            "watermark::text AS notes FROM job_runs ORDER BY job, id DESC"
        ))  # fmt: skip
    details = json.loads(cursor["details"]) if cursor else {}
    return {
        "cursor_slot": cursor["slot"] if cursor else None,
        "tip_slot": details.get("tip_slot"),
        "lag_seconds": round(float(cursor["lag_now"]), 1) if cursor else None,
        "updated_at": cursor["updated_at"] if cursor else None,
        "dead_letters": dead,
        "pending_transactions": pending,
        "dead_slots": dead_slots,
        "events_per_second": round(int(recent) / 300, 2),  # over the newest 5 minutes of chain time
        "failed_jobs_24h": failed_jobs,
        "jobs": runs,
    }


# the gifts table's sortable columns -> the SQL that sorts them
GIFT_SORTS = {
    "time": "g.slot",
    "fan": "g.fan",
    "amount": "g.amount",
    "mint": "coalesce(g.mint, '')",
    "post": "g.post_id",
    "finality": "g.commitment",
    "signature": "g.signature",
}


async def creator_gifts_page(
    pool: asyncpg.Pool, creator: str, *, offset: int, limit: int, sort: str = "time", descending: bool = True
) -> tuple[list[dict[str, Any]], int]:
    """One page of a creator's gifts (SOL and tokens) in the order asked, and how many there are in all."""
    order = f"{GIFT_SORTS[sort]} {'DESC' if descending else 'ASC'}"
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT g.block_time, g.fan, g.amount, coalesce(g.mint, '') AS mint, g.post_id, g.commitment, "
            f"g.signature, g.slot FROM gifts g WHERE g.creator = $1 ORDER BY {order}, g.slot DESC, g.signature, "
            "g.ix_path, g.event_index OFFSET $2 LIMIT $3",
            creator, max(0, offset), max(0, limit),
        )  # fmt: skip
        total = await conn.fetchval("SELECT count(*) FROM gifts WHERE creator = $1", creator)
    return _rows(rows), int(total)


async def platform_kpis(pool: asyncpg.Pool) -> list[dict[str, Any]]:
    async with pool.acquire() as conn:
        return _rows(await conn.fetch("SELECT * FROM platform_kpis_daily ORDER BY day"))


async def admin_audit(pool: asyncpg.Pool) -> list[dict[str, Any]]:
    async with pool.acquire() as conn:
        return _rows(await conn.fetch(
            "SELECT block_time, kind, actor, details::text AS details, signature FROM admin_actions "
            "ORDER BY slot DESC LIMIT 200"
        ))  # fmt: skip


async def creators_of_authority(pool: asyncpg.Pool, wallet: str) -> list[str]:
    """The creators whose bound wallet is `wallet` (a creator signs in with it)."""
    async with pool.acquire() as conn:
        rows = await conn.fetch("SELECT creator FROM creator_balances WHERE authority = $1 ORDER BY creator", wallet)
    return [r["creator"] for r in rows]


async def creator_token_totals(pool: asyncpg.Pool, creator: str) -> list[dict[str, Any]]:
    """Per token a creator was gifted: gifted, fees, withdrawn, balance (exact, from the facts) and gifts, in
    one pass over the creator's gifts and one over its withdrawals."""
    async with pool.acquire() as conn:
        return _rows(await conn.fetch(
            "SELECT mint, coalesce(g.gifted, 0) AS gifted, coalesce(g.fees, 0) AS fees, "
            "coalesce(w.withdrawn, 0) AS withdrawn, "
            "coalesce(g.gifted, 0) - coalesce(g.fees, 0) - coalesce(w.withdrawn, 0) AS balance, "
            "coalesce(g.gift_count, 0) AS gift_count "
            "FROM (SELECT mint, sum(amount) AS gifted, sum(fee) AS fees, count(*) AS gift_count FROM gifts "
            "      WHERE creator = $1 AND mint IS NOT NULL GROUP BY mint) g "
            "FULL JOIN (SELECT mint, sum(amount) AS withdrawn FROM withdrawals "
            "      WHERE creator = $1 AND mint IS NOT NULL GROUP BY mint) w USING (mint) ORDER BY mint", creator,
        ))  # fmt: skip


async def creator_mints(pool: asyncpg.Pool, creator: str) -> list[str]:
    """The tokens (mints) a creator was gifted, for the earnings chart's currency choice."""
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT DISTINCT mint FROM creator_daily_earnings WHERE creator = $1 AND mint <> '' ORDER BY mint", creator
        )
    return [r["mint"] for r in rows]


async def reconciliation_status(pool: asyncpg.Pool) -> dict[str, Any]:
    """The latest reconciliation verdict (match or mismatch, kept in the job's watermark) with its age in
    seconds (since its vaults were read), and the last run: when, whether it failed, what it noted."""
    async with pool.acquire() as conn:
        mark = await conn.fetchval("SELECT value::text FROM job_watermarks WHERE job = 'reconcile'")
        run = await conn.fetchrow(
            "SELECT started_at, error IS NOT NULL AS failed, watermark::text AS notes FROM job_runs "
            "WHERE job = 'reconcile' AND finished_at IS NOT NULL ORDER BY id DESC LIMIT 1"
        )
        now = await conn.fetchval("SELECT extract(epoch FROM now())::float8")
    verdict = (json.loads(mark) if mark else {}).get("verdict")
    at = verdict.get("read_at") if isinstance(verdict, dict) else None
    last = None
    if run is not None:
        notes = json.loads(run["notes"] or "{}").get("reconcile")
        last = {"started_at": run["started_at"], "failed": run["failed"], "notes": notes}
    return {
        "verdict": verdict if isinstance(verdict, dict) else None,
        "age_seconds": None if at is None else max(0.0, round(float(now) - float(at), 1)),
        "last_run": last,
    }
