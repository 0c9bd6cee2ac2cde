"""How current the warehouse is: the one definition the API's health, the dashboards and the lag rule share.

The indexer records, with every cursor it commits, how far behind the chain it was at that moment
(`details.lag_seconds`: now minus the newest block time it stored, 0 when caught up). A running indexer
commits a cursor every sweep (about a second), even with nothing new; a stalled or dead one commits none.
So the lag *now* is the lag recorded at the last cursor write plus the time since that write: it keeps
growing while nobody writes, instead of freezing at the last value a dead indexer left behind.
"""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

__all__ = ["LAG_NOW", "LATEST_CURSOR", "STALE_AFTER_SECONDS", "Freshness", "freshness"]

# lag now, in seconds, of a row of `cursors` (an SQL expression, to select `AS lag_now` beside other columns)
LAG_NOW = "coalesce((details->>'lag_seconds')::float8, 0) + extract(epoch FROM now() - updated_at)::float8"

# the newest cursor with its lag now: slot, tip_slot (the tip the indexer saw), lag_now
LATEST_CURSOR = (
    f"SELECT slot, (details->>'tip_slot')::bigint AS tip_slot, {LAG_NOW} AS lag_now "
    "FROM cursors ORDER BY updated_at DESC, name LIMIT 1"
)

# Past this lag the warehouse is not current: /v1/health says degraded, a creator's page shows a banner. A
# live indexer on the local chain stays within a few seconds (its block-time lag plus at most one sweep); a
# killed one crosses 30 s within 30 s of its last write, so health turns degraded well within a minute,
# while a slow batch or a restart of a few seconds does not flap it. The jobs' lag anomaly waits longer
# (MEMEFANS_JOBS_MAX_LAG_SECONDS, 120 s): it alerts a person.
STALE_AFTER_SECONDS = 30.0


@dataclass(frozen=True)
class Freshness:
    """How current the warehouse is: the indexer's cursor, the chain tip it last saw, its lag now."""

    cursor_slot: int | None
    tip_slot: int | None
    lag_seconds: float | None  # lag now (None: nothing indexed yet)

    @property
    def lag_slots(self) -> int | None:
        if self.cursor_slot is None or self.tip_slot is None:
            return None
        return max(0, self.tip_slot - self.cursor_slot)

    def is_stale(self, max_lag_seconds: float = STALE_AFTER_SECONDS) -> bool:
        """True when nothing is indexed yet or the lag now exceeds `max_lag_seconds`."""
        return self.lag_seconds is None or self.lag_seconds > max_lag_seconds


async def freshness(db: asyncpg.Pool | asyncpg.Connection) -> Freshness:
    """The newest cursor and its lag now, rounded to 0.1 s."""
    if isinstance(db, asyncpg.Pool):
        async with db.acquire() as conn:
            row = await conn.fetchrow(LATEST_CURSOR)
    else:
        row = await db.fetchrow(LATEST_CURSOR)
    if row is None:
        return Freshness(None, None, None)
    slot = int(row["slot"])
    tip = row["tip_slot"]
    return Freshness(
        cursor_slot=slot,
        tip_slot=int(tip) if tip is not None else slot,
        lag_seconds=round(max(0.0, float(row["lag_now"])), 1),
    )
