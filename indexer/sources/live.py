"""Live: logsSubscribe (mentions the program) and slotSubscribe, with sweeps that keep it complete.

A `logsNotification` makes the source fetch that transaction at once and deliver it without moving the
cursor (low latency). Only a sweep moves the cursor: a backfill from the cursor to the tip. Sweeps run on
a timer and at once after a websocket reconnect or a gap in the slot stream, so the cursor never passes a
transaction that was not delivered (fail closed). Duplicated, late and out-of-order notifications are
harmless: recently delivered signatures are remembered, and the sink is idempotent anyway.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import OrderedDict
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import websockets

from indexer import metrics
from indexer.sources.backfill import BackfillSource
from indexer.sources.base import Batch, Cursor, FetchedTransaction
from indexer.sources.rpc import RpcClient

__all__ = ["LiveSource"]

_REMEMBERED = 50_000


@dataclass(frozen=True, slots=True)
class _Notified:
    signature: str
    slot: int


@dataclass(frozen=True, slots=True)
class _Gap:
    reason: str


class LiveSource:
    def __init__(
        self,
        rpc: RpcClient,
        ws_url: str,
        program_id: str,
        *,
        commitment: str = "confirmed",
        sweep_interval_s: float = 1.0,
        batch_size: int = 100,
    ) -> None:
        self.rpc = rpc
        self.ws_url = ws_url
        self.program_id = program_id
        self.commitment = commitment
        self.sweep_interval_s = sweep_interval_s
        self.backfill = BackfillSource(rpc, program_id, commitment=commitment, batch_size=batch_size)
        self.tip = 0
        self.delivered: OrderedDict[str, int] = OrderedDict()  # signature -> slot, the newest last
        self.connected = asyncio.Event()
        self._dead_from: int | None = None

    def _remember(self, signature: str, slot: int) -> None:
        self.delivered[signature] = slot
        if len(self.delivered) > _REMEMBERED:
            self.delivered.popitem(last=False)

    def forget_from(self, slot: int) -> None:
        """A fork dropped the slots from `slot` on: what they held may land again in a later slot (even one the
        cursor has passed), under the same signature, so it is no longer 'delivered', and the next sweep reads
        again from before `slot` (re-delivering the rest is harmless: the sink is idempotent)."""
        for signature in [s for s, at in self.delivered.items() if at >= slot]:
            del self.delivered[signature]
        self._dead_from = slot if self._dead_from is None else min(self._dead_from, slot)

    async def stream(self, start: Cursor | None) -> AsyncIterator[Batch]:
        events: asyncio.Queue[_Notified | _Gap] = asyncio.Queue()
        listener = asyncio.create_task(self._listen(events), name="pubsub")
        cursor = start
        try:
            # subscribe first, then catch up: whatever lands meanwhile is in the queue or in the sweep
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.connected.wait(), timeout=5)
            async for batch in self._sweep(cursor, backfill=True):
                cursor = batch.cursor or cursor
                yield batch
            due = time.monotonic() + self.sweep_interval_s
            while True:
                try:
                    event: _Notified | _Gap | None = await asyncio.wait_for(
                        events.get(), timeout=max(0.0, due - time.monotonic())
                    )
                except TimeoutError:
                    event = None
                if isinstance(event, _Notified):
                    if event.signature in self.delivered:
                        continue
                    early = await self._one(event)
                    if early is not None:
                        yield early
                    continue
                if isinstance(event, _Gap):
                    metrics.GAPS.labels(event.reason).inc()
                if self._dead_from is not None:  # a fork took back slots: read again from before them
                    if cursor is not None and cursor.slot >= self._dead_from:
                        cursor = Cursor(self._dead_from - 1, None)
                    self._dead_from = None
                async for batch in self._sweep(cursor, backfill=False):
                    cursor = batch.cursor or cursor
                    yield batch
                due = time.monotonic() + self.sweep_interval_s
        finally:
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listener

    async def _one(self, event: _Notified) -> Batch | None:
        (payload,) = await self.rpc.get_transactions([event.signature], commitment=self.commitment)
        if payload is None:
            return None  # not confirmed yet or gone with a fork: the next sweep decides
        slot = int(payload.get("slot", event.slot))
        self._remember(event.signature, slot)
        self.tip = max(self.tip, slot)
        return Batch((FetchedTransaction(event.signature, slot, payload),), None, self.tip, backfill=False)

    async def _sweep(self, cursor: Cursor | None, *, backfill: bool) -> AsyncIterator[Batch]:
        """Everything after `cursor`, minus what was delivered already; the cursor moves to the tip."""
        tip = await self.rpc.get_slot(self.commitment)
        self.tip = max(self.tip, tip)
        found = False
        async for batch in self.backfill.stream(cursor):
            found = True
            fresh = tuple(tx for tx in batch.transactions if tx.signature not in self.delivered)
            for tx in fresh:
                self._remember(tx.signature, tx.slot)
            yield Batch(fresh, batch.cursor, max(batch.tip_slot, self.tip), backfill, batch.remaining)
        if not found and cursor is not None and tip > cursor.slot:
            # nothing new up to the tip: say so, so that the lag shown is the indexer's and not the program's
            yield Batch((), Cursor(tip, cursor.signature), tip, backfill)

    async def _listen(self, events: asyncio.Queue[_Notified | _Gap]) -> None:
        attempt = 0
        first = True
        while True:
            try:
                async with websockets.connect(self.ws_url, max_size=None, ping_interval=20) as ws:
                    await ws.send(
                        json.dumps(
                            _subscribe(
                                1, "logsSubscribe", [{"mentions": [self.program_id]}, {"commitment": self.commitment}]
                            )
                        )
                    )
                    await ws.send(json.dumps(_subscribe(2, "slotSubscribe", [])))
                    self.connected.set()
                    if not first:
                        await events.put(_Gap("reconnect"))  # what happened while we were away
                    first = False
                    attempt = 0
                    last_slot = 0
                    async for raw in ws:
                        message = json.loads(raw)
                        method = message.get("method") if isinstance(message, dict) else None
                        result: Any = (message.get("params") or {}).get("result") if method else None
                        if method == "logsNotification" and isinstance(result, dict):
                            value = result.get("value") or {}
                            signature = value.get("signature")
                            if isinstance(signature, str) and signature not in self.delivered:
                                await events.put(
                                    _Notified(signature, int((result.get("context") or {}).get("slot", 0)))
                                )
                        elif method == "slotNotification" and isinstance(result, dict):
                            slot = int(result.get("slot", 0))
                            if last_slot and slot > last_slot + 1:
                                await events.put(_Gap("slot_gap"))
                            last_slot = max(last_slot, slot)
            except asyncio.CancelledError:
                raise
            except (OSError, websockets.WebSocketException, ValueError, TimeoutError):
                pass
            self.connected.clear()
            metrics.WS_RECONNECTS.inc()
            attempt += 1
            await asyncio.sleep(min(5.0, 0.1 * 2**attempt))


def _subscribe(request_id: int, method: str, params: list[Any]) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "method": method, "params": params}
