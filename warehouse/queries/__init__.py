"""The read side: every SELECT the API and the dashboards need, in one place, with typed results.

Amounts come back as Python ints (NUMERIC(39,0) is exact); callers format them. Keyset pagination
orders gifts newest first by (slot, signature, ix_path, event_index), so a page boundary is stable while
new rows arrive.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

# how current the warehouse is: one definition (warehouse.freshness), re-exported for the API
from warehouse.freshness import Freshness, freshness

__all__ = [
    "CreatorSummary",
    "Freshness",
    "GiftKey",
    "GiftRecord",
    "PostSummary",
    "TokenTotals",
    "WalletCreator",
    "creator_gifts",
    "creator_summary",
    "freshness",
    "post_summary",
    "wallet_balances",
    "wallet_gifts",
]


@dataclass(frozen=True)
class TokenTotals:
    mint: str
    gifted: int
    fees: int
    withdrawn: int
    balance: int


@dataclass(frozen=True)
class GiftKey:
    """A position in the newest-first order of gifts."""

    slot: int
    signature: str
    ix_path: str
    event_index: int


@dataclass(frozen=True)
class GiftRecord:
    signature: str
    ix_path: str
    event_index: int
    fan: str
    platform: str
    handle: str
    mint: str | None
    amount: int
    fee: int
    post_id: str
    memo: str
    slot: int
    block_time: datetime | None
    commitment: str

    @property
    def key(self) -> GiftKey:
        return GiftKey(self.slot, self.signature, self.ix_path, self.event_index)


@dataclass(frozen=True)
class CreatorSummary:
    platform: str
    handle: str
    creator: str
    authority: str | None
    gifted: int
    fees: int
    withdrawn: int
    balance: int
    settled_balance: int
    gift_count: int
    last_gift: GiftRecord | None
    tokens: tuple[TokenTotals, ...]
    max_slot: int
    has_pending: bool


@dataclass(frozen=True)
class PostSummary:
    platform: str
    post_id: str
    gift_count: int
    total: int
    tokens: tuple[TokenTotals, ...]
    max_slot: int
    has_pending: bool


@dataclass(frozen=True)
class WalletCreator:
    platform: str
    handle: str
    creator: str
    gifted: int
    gift_count: int
    last_gift_slot: int


_GIFT_COLUMNS = """g.signature, g.ix_path, g.event_index, g.fan, c.platform, c.handle, g.mint, g.amount, g.fee,
    g.post_id, g.memo, g.slot, g.block_time, g.commitment"""

_GIFT_ORDER = "ORDER BY g.slot DESC, g.signature DESC, g.ix_path DESC, g.event_index DESC"
_AFTER = "(g.slot, g.signature, g.ix_path, g.event_index) < (${0}, ${1}, ${2}, ${3})"


def _gift(row: asyncpg.Record) -> GiftRecord:
    return GiftRecord(
        signature=row["signature"],
        ix_path=row["ix_path"],
        event_index=row["event_index"],
        fan=row["fan"],
        platform=row["platform"],
        handle=row["handle"],
        mint=row["mint"],
        amount=int(row["amount"]),
        fee=int(row["fee"]),
        post_id=row["post_id"],
        memo=row["memo"],
        slot=row["slot"],
        block_time=row["block_time"],
        commitment=row["commitment"],
    )


def _after_args(after: GiftKey | None) -> list[Any]:
    return [] if after is None else [after.slot, after.signature, after.ix_path, after.event_index]


_CREATOR_SUMMARY = """
SELECT b.*,
       (SELECT count(*) FROM gifts g WHERE g.creator = b.creator AND g.commitment <> 'finalized')
     + (SELECT count(*) FROM withdrawals w WHERE w.creator = b.creator AND w.commitment <> 'finalized') AS pending_rows,
       GREATEST((SELECT max(slot) FROM gifts g WHERE g.creator = b.creator),
                (SELECT max(slot) FROM withdrawals w WHERE w.creator = b.creator),
                (SELECT slot FROM creators c WHERE c.creator = b.creator)) AS max_slot,
       (SELECT json_agg(json_build_object('mint', t.mint, 'gifted', t.gifted, 'fees', t.fees,
                                          'withdrawn', t.withdrawn, 'balance', t.balance) ORDER BY t.mint)
          FROM creator_token_balances t WHERE t.creator = b.creator) AS tokens,
       last.signature AS last_signature, last.ix_path AS last_ix_path, last.event_index AS last_event_index,
       last.fan AS last_fan, last.mint AS last_mint, last.amount AS last_amount, last.fee AS last_fee,
       last.post_id AS last_post_id, last.memo AS last_memo, last.slot AS last_slot,
       last.block_time AS last_block_time, last.commitment AS last_commitment
FROM creator_balances b
LEFT JOIN LATERAL (
    SELECT * FROM gifts g WHERE g.creator = b.creator
    ORDER BY g.slot DESC, g.signature DESC, g.ix_path DESC, g.event_index DESC LIMIT 1
) last ON true
WHERE b.platform = $1 AND b.handle_key = lower($2)
"""


async def creator_summary(pool: asyncpg.Pool, platform: str, handle: str) -> CreatorSummary | None:
    """A creator's balances, totals, last gift and token totals, in one round trip."""
    async with pool.acquire() as conn:
        row = await conn.fetchrow(_CREATOR_SUMMARY, platform, handle)
    if row is None:
        return None
    last = None
    if row["last_signature"] is not None:
        last = GiftRecord(
            signature=row["last_signature"],
            ix_path=row["last_ix_path"],
            event_index=row["last_event_index"],
            fan=row["last_fan"],
            platform=row["platform"],
            handle=row["handle"],
            mint=row["last_mint"],
            amount=int(row["last_amount"]),
            fee=int(row["last_fee"]),
            post_id=row["last_post_id"],
            memo=row["last_memo"],
            slot=row["last_slot"],
            block_time=row["last_block_time"],
            commitment=row["last_commitment"],
        )
    tokens = json.loads(row["tokens"]) if row["tokens"] else []
    return CreatorSummary(
        platform=row["platform"],
        handle=row["handle"],
        creator=row["creator"],
        authority=row["authority"],
        gifted=int(row["gifted"]),
        fees=int(row["fees"]),
        withdrawn=int(row["withdrawn"]),
        balance=int(row["balance"]),
        settled_balance=int(row["settled_balance"]),
        gift_count=int(row["gift_count"]),
        last_gift=last,
        tokens=tuple(
            TokenTotals(t["mint"], int(t["gifted"]), int(t["fees"]), int(t["withdrawn"]), int(t["balance"]))
            for t in tokens
        ),
        max_slot=int(row["max_slot"] or 0),
        has_pending=bool(row["pending_rows"]),
    )


def _tokens(rows: list[asyncpg.Record]) -> list[TokenTotals]:
    return [
        TokenTotals(r["mint"], int(r["gifted"]), int(r["fees"]), int(r["withdrawn"]), int(r["balance"])) for r in rows
    ]


async def creator_gifts(
    pool: asyncpg.Pool, platform: str, handle: str, after: GiftKey | None, limit: int
) -> list[GiftRecord] | None:
    """A page of a creator's gifts, newest first; None when the creator is unknown."""
    async with pool.acquire() as conn:
        creator = await conn.fetchval(
            "SELECT creator FROM creators WHERE platform = $1 AND handle_key = lower($2)", platform, handle
        )
        if creator is None:
            return None
        where = "g.creator = $1" + (" AND " + _AFTER.format(2, 3, 4, 5) if after else "")
        rows = await conn.fetch(
            f"SELECT {_GIFT_COLUMNS} FROM gifts g JOIN creators c USING (creator)"
            f" WHERE {where} {_GIFT_ORDER} LIMIT ${6 if after else 2}",
            creator,
            *_after_args(after),
            limit,
        )
    return [_gift(r) for r in rows]


async def wallet_gifts(pool: asyncpg.Pool, wallet: str, after: GiftKey | None, limit: int) -> list[GiftRecord]:
    where = "g.fan = $1" + (" AND " + _AFTER.format(2, 3, 4, 5) if after else "")
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            f"SELECT {_GIFT_COLUMNS} FROM gifts g JOIN creators c USING (creator)"
            f" WHERE {where} {_GIFT_ORDER} LIMIT ${6 if after else 2}",
            wallet,
            *_after_args(after),
            limit,
        )
    return [_gift(r) for r in rows]


async def wallet_balances(pool: asyncpg.Pool, wallet: str) -> list[WalletCreator]:
    """What a wallet gave each creator, in lamports (SOL gifts), largest first."""
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT c.platform, c.handle, c.creator, sum(g.amount) AS gifted, count(*) AS gift_count,"
            " max(g.slot) AS last_slot FROM gifts g JOIN creators c USING (creator)"
            " WHERE g.fan = $1 AND g.mint IS NULL GROUP BY c.platform, c.handle, c.creator"
            " ORDER BY gifted DESC, c.creator",
            wallet,
        )
    return [
        WalletCreator(r["platform"], r["handle"], r["creator"], int(r["gifted"]), int(r["gift_count"]), r["last_slot"])
        for r in rows
    ]


async def post_summary(pool: asyncpg.Pool, platform: str, post_id: str) -> PostSummary:
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT COALESCE(g.mint, '') AS mint, sum(g.amount) AS gifted, sum(g.fee) AS fees, count(*) AS n,"
            " max(g.slot) AS max_slot, bool_or(g.commitment <> 'finalized') AS pending"
            " FROM gifts g JOIN creators c USING (creator) WHERE c.platform = $1 AND g.post_id = $2"
            " GROUP BY COALESCE(g.mint, '') ORDER BY 1",
            platform,
            post_id,
        )
    sol = next((r for r in rows if r["mint"] == ""), None)
    tokens = [
        TokenTotals(r["mint"], int(r["gifted"]), int(r["fees"]), 0, int(r["gifted"]) - int(r["fees"]))
        for r in rows
        if r["mint"] != ""
    ]
    return PostSummary(
        platform=platform,
        post_id=post_id,
        gift_count=int(sol["n"]) if sol else 0,
        total=int(sol["gifted"]) if sol else 0,
        tokens=tuple(tokens),
        max_slot=max((int(r["max_slot"]) for r in rows), default=0),
        has_pending=any(r["pending"] for r in rows),
    )
