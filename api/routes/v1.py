"""The /v1 routes: creators, their gifts, posts, wallets and health. Data only through warehouse.queries."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Annotated

import asyncpg
from fastapi import APIRouter, Query, Request

from api.schemas import (
    AsOf,
    CreatorBalance,
    CreatorResponse,
    CreatorTotals,
    Escrow,
    GiftItem,
    GiftPage,
    HealthResponse,
    LastGift,
    PostResponse,
    TokenBalance,
    WalletBalancesResponse,
    WalletCreatorBalance,
)
from api.validation import (
    ApiError,
    check_handle,
    check_platform,
    check_post_id,
    check_pubkey,
    decode_cursor,
    encode_cursor,
)
from warehouse import queries
from warehouse.queries import Freshness, GiftRecord, TokenTotals

__all__ = ["DATABASE_DOWN", "router"]

# what asyncpg and the network raise when the warehouse is unreachable or lost: health says down, and any
# other route answers 503 (the app's handler)
DATABASE_DOWN = (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError)

router = APIRouter(prefix="/v1")

Limit = Annotated[int, Query(ge=1, le=200, description="Page size, 1-200")]


def _pool(request: Request) -> asyncpg.Pool:
    pool: asyncpg.Pool = request.app.state.pool
    return pool


FRESHNESS_TTL = 0.5  # seconds: the cursor moves once a batch, not once a request


async def _freshness(request: Request) -> Freshness:
    """The indexer's position, read at most twice a second however many requests ask for it."""
    now = time.monotonic()
    cached: tuple[float, Freshness] | None = getattr(request.app.state, "freshness", None)
    if cached is not None and now - cached[0] < FRESHNESS_TTL:
        return cached[1]
    fresh = await queries.freshness(_pool(request))
    request.app.state.freshness = (now, fresh)
    return fresh


def _as_of(fresh: Freshness, slot: int, pending: bool) -> AsOf:
    return AsOf(
        slot=max(slot, fresh.cursor_slot or 0),
        commitment="confirmed" if pending else "finalized",
        indexer_lag_slots=fresh.lag_slots,
        indexer_lag_seconds=fresh.lag_seconds,
    )


def _ts(value: datetime | None) -> int | None:
    return int(value.timestamp()) if value is not None else None


def _gift_item(g: GiftRecord) -> GiftItem:
    return GiftItem(
        signature=g.signature,
        ix_path=g.ix_path,
        event_index=g.event_index,
        fan=g.fan,
        platform=g.platform,
        handle=g.handle,
        mint=g.mint,
        amount=str(g.amount),
        fee=str(g.fee),
        post_id=g.post_id,
        memo=g.memo,
        slot=g.slot,
        block_time=_ts(g.block_time),
        commitment="finalized" if g.commitment == "finalized" else "confirmed",
    )


def _token(t: TokenTotals) -> TokenBalance:
    return TokenBalance(
        mint=t.mint, gifted=str(t.gifted), fees=str(t.fees), withdrawn=str(t.withdrawn), balance=str(t.balance)
    )


async def _page(request: Request, gifts: list[GiftRecord], limit: int) -> GiftPage:
    fresh = await _freshness(request)
    more = len(gifts) > limit
    items = gifts[:limit]
    return GiftPage(
        items=[_gift_item(g) for g in items],
        next_cursor=encode_cursor(items[-1].key) if more else None,
        as_of=_as_of(fresh, max((g.slot for g in items), default=0), any(g.commitment != "finalized" for g in items)),
    )


@router.get("/creators/{platform}/{handle}", response_model=CreatorResponse)
async def creator(request: Request, platform: str, handle: str) -> CreatorResponse:
    summary = await queries.creator_summary(_pool(request), check_platform(platform), check_handle(handle))
    if summary is None:
        raise ApiError(404, "not_found", f"no creator {platform}/{handle} has been registered on chain")
    fresh = await _freshness(request)
    last = summary.last_gift
    return CreatorResponse(
        platform=summary.platform,
        handle=summary.handle,
        creator=summary.creator,
        authority=summary.authority,
        balance=CreatorBalance(
            settled=str(summary.settled_balance),
            pending=str(summary.balance - summary.settled_balance),
            total=str(summary.balance),
        ),
        totals=CreatorTotals(gifted=str(summary.gifted), fees=str(summary.fees), withdrawn=str(summary.withdrawn)),
        gift_count=summary.gift_count,
        last_gift=LastGift(
            signature=last.signature,
            fan=last.fan,
            amount=str(last.amount),
            mint=last.mint,
            slot=last.slot,
            block_time=_ts(last.block_time),
        )
        if last
        else None,
        escrow=Escrow(
            waiting=summary.authority is None and summary.balance > 0,
            amount=str(summary.balance if summary.authority is None else 0),
        ),
        tokens=[_token(t) for t in summary.tokens],
        as_of=_as_of(fresh, summary.max_slot, summary.has_pending),
    )


@router.get("/creators/{platform}/{handle}/gifts", response_model=GiftPage)
async def creator_gifts(
    request: Request, platform: str, handle: str, limit: Limit = 50, cursor: str | None = None
) -> GiftPage:
    after = decode_cursor(cursor)
    gifts = await queries.creator_gifts(
        _pool(request), check_platform(platform), check_handle(handle), after, limit + 1
    )
    if gifts is None:
        raise ApiError(404, "not_found", f"no creator {platform}/{handle} has been registered on chain")
    return await _page(request, gifts, limit)


@router.get("/posts/{platform}/{post_id}", response_model=PostResponse)
async def post(request: Request, platform: str, post_id: str) -> PostResponse:
    summary = await queries.post_summary(_pool(request), check_platform(platform), check_post_id(post_id))
    fresh = await _freshness(request)
    return PostResponse(
        platform=summary.platform,
        post_id=summary.post_id,
        gift_count=summary.gift_count,
        total=str(summary.total),
        tokens=[_token(t) for t in summary.tokens],
        as_of=_as_of(fresh, summary.max_slot, summary.has_pending),
    )


@router.get("/wallets/{pubkey}/gifts", response_model=GiftPage)
async def wallet_gifts(request: Request, pubkey: str, limit: Limit = 50, cursor: str | None = None) -> GiftPage:
    after = decode_cursor(cursor)
    gifts = await queries.wallet_gifts(_pool(request), check_pubkey(pubkey), after, limit + 1)
    return await _page(request, gifts, limit)


@router.get("/wallets/{pubkey}/balances", response_model=WalletBalancesResponse)
async def wallet_balances(request: Request, pubkey: str) -> WalletBalancesResponse:
    wallet = check_pubkey(pubkey)
    rows = await queries.wallet_balances(_pool(request), wallet)
    fresh = await _freshness(request)
    return WalletBalancesResponse(
        wallet=wallet,
        creators=[
            WalletCreatorBalance(
                platform=r.platform,
                handle=r.handle,
                creator=r.creator,
                gifted=str(r.gifted),
                gift_count=r.gift_count,
                last_gift_slot=r.last_gift_slot,
            )
            for r in rows
        ],
        as_of=_as_of(fresh, max((r.last_gift_slot for r in rows), default=0), True),
    )


@router.get("/health", response_model=HealthResponse)
async def health(request: Request) -> HealthResponse:
    try:
        fresh = await _freshness(request)
    except DATABASE_DOWN:
        return HealthResponse(
            status="down",
            database="down",
            cursor_slot=None,
            tip_slot=None,
            indexer_lag_slots=None,
            indexer_lag_seconds=None,
            as_of=None,
        )
    # degraded while the indexer's lag now (warehouse.freshness) is past the limit: a dead indexer's lag
    # keeps growing, so it turns degraded within the limit's seconds of the indexer's last cursor write
    return HealthResponse(
        status="degraded" if fresh.is_stale(request.app.state.max_lag_seconds) else "ok",
        database="ok",
        cursor_slot=fresh.cursor_slot,
        tip_slot=fresh.tip_slot,
        indexer_lag_slots=fresh.lag_slots,
        indexer_lag_seconds=fresh.lag_seconds,
        as_of=_as_of(fresh, 0, True) if fresh.cursor_slot is not None else None,  # the cursor moves at confirmed
    )
