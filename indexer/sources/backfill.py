"""Backfill: every transaction of a program from a cursor (or its first transaction) to the tip, once.

getSignaturesForAddress pages newest to oldest (`before`, `until` = the cursor's signature, 1000 a page)
down to the cursor, `--from-slot`, or the program's first signature; then the transactions are fetched
oldest first with getTransaction in JSON-RPC batches, several batches in flight, and yielded in order.
Each batch's cursor is its last transaction: the order is exactly the reverse of the listing, so that a
restart with `until` = that cursor continues without a gap and without fetching anything twice.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from typing import Any

from indexer.sources.base import Batch, Cursor, FetchedTransaction
from indexer.sources.rpc import RpcClient

__all__ = ["BackfillSource"]


class BackfillSource:
    def __init__(
        self,
        rpc: RpcClient,
        program_id: str,
        *,
        commitment: str = "confirmed",
        from_slot: int | None = None,
        page_size: int = 1000,
        batch_size: int = 100,
        in_flight: int = 4,
    ) -> None:
        self.rpc = rpc
        self.program_id = program_id
        self.commitment = commitment
        self.from_slot = from_slot
        self.page_size = page_size
        self.batch_size = batch_size
        self.in_flight = in_flight

    async def listing(self, start: Cursor | None) -> list[dict[str, Any]]:
        """The signatures after `start`, oldest first."""
        entries: list[dict[str, Any]] = []
        before: str | None = None
        until = start.signature if start else None
        while True:
            page = await self.rpc.get_signatures(
                self.program_id, before=before, until=until, limit=self.page_size, commitment=self.commitment
            )
            done = len(page) < self.page_size
            for entry in page:
                slot = int(entry["slot"])
                # older than the cursor's slot: ingested already (the cursor's signature may have died in a fork)
                if (start is not None and slot < start.slot) or (self.from_slot is not None and slot < self.from_slot):
                    done = True
                    break
                entries.append(entry)
            if done or not page:
                break
            before = page[-1]["signature"]
        entries.reverse()
        return entries

    def forget_from(self, slot: int) -> None:
        """Nothing to forget: this source ends, and a restart reads from the stored cursor."""

    async def stream(self, start: Cursor | None) -> AsyncIterator[Batch]:
        tip = await self.rpc.get_slot(self.commitment)
        entries = await self.listing(start)
        chunks = [entries[i : i + self.batch_size] for i in range(0, len(entries), self.batch_size)]
        pending: deque[tuple[list[dict[str, Any]], asyncio.Task[list[dict[str, Any] | None]]]] = deque()
        delivered = 0
        try:
            for chunk in chunks:
                pending.append((chunk, asyncio.create_task(self._fetch(chunk))))
                if len(pending) < self.in_flight:
                    continue
                delivered += len(pending[0][0])
                yield await self._batch(*pending.popleft(), tip, len(entries) - delivered)
            while pending:
                delivered += len(pending[0][0])
                yield await self._batch(*pending.popleft(), tip, len(entries) - delivered)
        finally:
            for _, task in pending:
                task.cancel()

    async def _fetch(self, chunk: list[dict[str, Any]]) -> list[dict[str, Any] | None]:
        signatures = [entry["signature"] for entry in chunk]
        return await self.rpc.get_transactions(signatures, commitment=self.commitment, batch_size=self.batch_size)

    @staticmethod
    async def _batch(
        chunk: list[dict[str, Any]], task: asyncio.Task[list[dict[str, Any] | None]], tip: int, remaining: int
    ) -> Batch:
        payloads = await task
        transactions = tuple(
            FetchedTransaction(entry["signature"], int(entry["slot"]), payload)
            for entry, payload in zip(chunk, payloads, strict=True)
        )
        last = chunk[-1]
        return Batch(transactions, Cursor(int(last["slot"]), last["signature"]), tip, True, remaining)
