"""What every source gives the pipeline: batches of fetched transactions in chain order, each with the
cursor that may be committed once the batch is stored.

A source never decodes and never writes; it reads a cluster (or files) and says how far it has read.
The cursor is "everything up to and including this signature has been delivered": it only moves past a
transaction once every transaction before it has been delivered (fail closed). A batch may repeat
transactions delivered before (the sink is idempotent) and may carry `cursor=None` when it holds
transactions seen early (a live notification) without proving that nothing before them is missing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Protocol

__all__ = ["Batch", "Cursor", "FetchedTransaction", "Source", "SourceError"]


class SourceError(Exception):
    """A source could not go on (the cluster unreachable after every retry, a file unreadable)."""


@dataclass(frozen=True, slots=True)
class Cursor:
    slot: int
    signature: str | None  # None: nothing of the program seen yet up to `slot`


@dataclass(frozen=True, slots=True)
class FetchedTransaction:
    signature: str
    slot: int
    payload: dict[str, Any] | None  # the getTransaction result ("json" encoding, v0 allowed); None: not found
    tx_index: int | None = None  # position in its block when known (getBlock, replay of blocks)


@dataclass(frozen=True, slots=True)
class Batch:
    transactions: tuple[FetchedTransaction, ...]  # oldest first
    cursor: Cursor | None  # commit this with the batch; None: do not move the cursor
    tip_slot: int  # the source's view of the chain's tip at `confirmed`, for lag metrics
    backfill: bool = False  # part of a backfill (for progress reporting)
    remaining: int | None = None  # transactions still to fetch in this backfill, when known


class Source(Protocol):
    def stream(self, start: Cursor | None) -> AsyncIterator[Batch]:
        """Batches from just after `start` (None: the program's first transaction) onwards."""
        ...

    def forget_from(self, slot: int) -> None:
        """Slots from `slot` on died and their rows are gone: forget what was delivered from them (a transaction
        may land again in a later slot) and read again from before `slot`. A source that ends (a backfill, a
        replay) has nothing to forget: a restart reads from the stored cursor, which the sink moved back."""
        ...
