"""The HTTP API's response models: the contract with the Chrome extension and any other client.

Amounts are integer base units (lamports for SOL, the mint's base units for tokens) encoded as decimal
strings, because token totals overflow a JavaScript number. Every response carries `as_of`: the slot and
commitment it reflects and the indexer's lag, so a client can tell how current the figures are.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "AsOf",
    "CreatorBalance",
    "CreatorResponse",
    "CreatorTotals",
    "ErrorResponse",
    "Escrow",
    "GiftItem",
    "GiftPage",
    "HealthResponse",
    "LastGift",
    "PostResponse",
    "TokenBalance",
    "WalletBalancesResponse",
    "WalletCreatorBalance",
]

Commitment = Literal["processed", "confirmed", "finalized"]
Amount = str  # decimal string of integer base units


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class AsOf(_Model):
    slot: int = Field(description="The newest slot whose rows the response includes")
    commitment: Commitment = Field(description="The commitment of the least final row included")
    indexer_lag_slots: int | None = Field(description="Chain tip slot minus the indexer's cursor slot")
    indexer_lag_seconds: float | None = Field(
        description="Seconds the warehouse is behind the chain now: the lag the indexer recorded with its last "
        "cursor, plus the time since it wrote it (so it keeps growing when the indexer stops)"
    )


class CreatorBalance(_Model):
    settled: Amount = Field(description="Balance from finalized rows only, lamports")
    pending: Amount = Field(description="Balance change from rows not yet finalized, lamports")
    total: Amount = Field(description="settled + pending, lamports")


class CreatorTotals(_Model):
    gifted: Amount
    fees: Amount
    withdrawn: Amount


class LastGift(_Model):
    signature: str
    fan: str
    amount: Amount
    mint: str | None
    slot: int
    block_time: int | None


class Escrow(_Model):
    waiting: bool = Field(description="True while the handle is unbound and holds gifts")
    amount: Amount = Field(description="Lamports waiting for the handle to be bound")


class TokenBalance(_Model):
    mint: str
    gifted: Amount
    fees: Amount
    withdrawn: Amount
    balance: Amount


class CreatorResponse(_Model):
    platform: str
    handle: str
    creator: str = Field(description="The creator PDA")
    authority: str | None = Field(description="The bound wallet, or null while unbound")
    balance: CreatorBalance
    totals: CreatorTotals
    gift_count: int
    last_gift: LastGift | None
    escrow: Escrow
    tokens: list[TokenBalance]
    as_of: AsOf


class GiftItem(_Model):
    signature: str
    ix_path: str
    event_index: int
    fan: str
    platform: str
    handle: str
    mint: str | None
    amount: Amount
    fee: Amount
    post_id: str
    memo: str
    slot: int
    block_time: int | None
    commitment: Commitment


class GiftPage(_Model):
    items: list[GiftItem]
    next_cursor: str | None = Field(description="Opaque; pass as ?cursor= for the next page, null at the end")
    as_of: AsOf


class PostResponse(_Model):
    platform: str
    post_id: str
    gift_count: int
    total: Amount = Field(description="Lamports gifted to the post")
    tokens: list[TokenBalance]
    as_of: AsOf


class WalletCreatorBalance(_Model):
    platform: str
    handle: str
    creator: str
    gifted: Amount = Field(description="Lamports this wallet gave this creator")
    gift_count: int
    last_gift_slot: int


class WalletBalancesResponse(_Model):
    wallet: str
    creators: list[WalletCreatorBalance]
    as_of: AsOf


class HealthResponse(_Model):
    status: Literal["ok", "degraded", "down"] = Field(
        description="degraded: nothing indexed yet, or the indexer's lag now exceeds MEMEFANS_API_MAX_LAG_SECONDS "
        "(30 s by default); down: the warehouse is unreachable"
    )
    database: Literal["ok", "down"]
    cursor_slot: int | None
    tip_slot: int | None
    indexer_lag_slots: int | None
    indexer_lag_seconds: float | None
    as_of: AsOf | None = Field(description="The slot the warehouse is complete up to (None: nothing indexed yet)")


class ErrorResponse(_Model):
    error: str = Field(description="A machine-readable code, such as invalid_pubkey or not_found")
    message: str = Field(description="What was wrong and how to fix it")
