"""The indexer's pipeline: batches from a source, decoded, projected to rows, stored with their cursor.

One loop pulls batches (the source fetches ahead concurrently), decodes every transaction, projects it
to rows and hands the batch to the sink, which commits rows and cursor together: a kill at any moment
loses nothing committed and a restart resumes from the committed cursor. Beside it, a finality loop
promotes rows of rooted slots to `finalized` and deletes the rows of slots that died.

Nothing here crashes on bad input: a transaction the node does not return, one the decoder cannot read
and one whose rows the database refuses each become a dead letter with the reason, and the pipeline goes
on. Only an unreachable database or cluster stops it, after the retries. A transaction is stored whole or
not at all: when the database refuses a batch, each of its transactions is written in its own database
transaction, and one refused leaves none of its rows, only its `sink` dead letter (the cursor still moves).

Before the first batch the projector learns the gift pool's fee history from the warehouse (it rebuilds a
truncated log's gifts with the fee in force at their slot); slots that die are forgotten from it too.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from indexer import metrics
from indexer.decode import Decoder, Undecodable
from indexer.projection import FeeChange, Projector, Rows
from indexer.sources.base import Batch, Cursor, FetchedTransaction, Source
from warehouse.sink import DeadLetter, Sink, SinkError, StoredCursor, columns

__all__ = ["ChainView", "Pipeline", "Stats"]

log = logging.getLogger("memefans.indexer")
PARTIAL = "partial"  # the dead-letter stage of a transaction stored in part
_EVENT_COLUMNS = (columns("decoded_events").index("program_id"), columns("decoded_events").index("name"))


class ChainView(Protocol):
    """What the finality loop asks of the cluster (the sources' RpcClient answers it)."""

    async def get_slot(self, commitment: str) -> int: ...

    async def get_blocks(self, start: int, end: int) -> list[int]: ...


@dataclass
class Stats:
    batches: int = 0
    transactions: int = 0
    failed: int = 0
    events: int = 0
    rows: int = 0
    dead_letters: int = 0
    started: float = field(default_factory=time.monotonic)

    def rate(self) -> float:
        elapsed = time.monotonic() - self.started
        return self.transactions / elapsed if elapsed > 0 else 0.0


@dataclass
class Pipeline:
    source: Source
    decoder: Decoder
    projector: Projector
    sink: Sink
    cursor_name: str
    chain: ChainView | None = None  # None: no finality loop (replay of history)
    finality_interval_s: float = 2.0
    commitment: str = "confirmed"
    on_batch: Callable[[Batch, Stats], None] | None = None  # progress reporting
    stats: Stats = field(default_factory=Stats)
    finalized_slot: int = -1  # the newest rooted slot seen; rows at or below it arrive finalized
    write_attempts: int = 8  # a batch is retried this often while the database is unreachable

    async def run(self) -> Stats:
        """Ingest until the source ends (a backfill, a replay) or the task is cancelled (live)."""
        stored = await self.sink.read_cursor(self.cursor_name)
        start = Cursor(stored.slot, stored.signature) if stored else None
        await self.load_fee_history()
        if stored:
            log.info("resuming", extra={"cursor_slot": stored.slot, "cursor_signature": stored.signature})
        finality: asyncio.Task[None] | None = None
        if self.chain is not None:
            await self.finalize_once()
            finality = asyncio.create_task(self._finality_loop(), name="finality")
        writing: asyncio.Task[None] | None = None
        try:
            async for batch in self.source.stream(start):
                if writing is None:
                    prepared = self._prepare(batch)
                else:
                    # decode the next batch in a thread while the previous one is being written: the
                    # database works on the other core meanwhile
                    prepared = await asyncio.to_thread(self._prepare, batch)
                    await writing
                writing = asyncio.create_task(self._store(batch, *prepared))
            if writing is not None:
                await writing
                writing = None
            if self.chain is not None:
                await self.finalize_once()
        finally:
            if writing is not None:
                writing.cancel()  # its database transaction rolls back: the next run redoes the batch
                with contextlib.suppress(asyncio.CancelledError):
                    await writing
            if finality is not None:
                finality.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await finality
        return self.stats

    async def load_fee_history(self) -> None:
        """Seed the projector's fee schedule with the fee changes the warehouse already holds."""
        for change in await self.sink.fee_history():
            self.projector.fees.note(
                FeeChange(
                    change["slot"],
                    change["tx_index"],
                    change["signature"],
                    change["ix_path"],
                    change["fee_bps"],
                    change["previous_fee_bps"],
                )
            )

    # -- one batch -------------------------------------------------------------------------------------

    async def ingest(self, batch: Batch) -> None:
        await self._store(batch, *self._prepare(batch))

    def _prepare(self, batch: Batch) -> tuple[Rows, list[DeadLetter], StoredCursor | None]:
        """Decode and project (pure CPU, safe in a worker thread)."""
        rows = Rows()
        dead: list[DeadLetter] = []
        for fetched in batch.transactions:
            self._add(fetched, rows, dead)
        return rows, dead, self._cursor(batch)

    async def _store(self, batch: Batch, rows: Rows, dead: list[DeadLetter], cursor: StoredCursor | None) -> None:
        for attempt in range(self.write_attempts):
            try:
                await self.sink.write(rows.records(), cursor=cursor, dead_letters=dead)
                break
            except SinkError as exc:
                if not exc.transient:
                    # one transaction's rows were refused: store the others and dead-letter that one
                    log.warning("batch refused, isolating", extra={"reason": str(exc)})
                    await self._isolate(batch, cursor, dead)
                    break
                if attempt == self.write_attempts - 1:
                    raise
                metrics.ERRORS.labels("sink").inc()
                log.warning("warehouse unavailable; retrying", extra={"reason": str(exc), "attempt": attempt + 1})
                await asyncio.sleep(min(10.0, 0.2 * 2**attempt))
        self._account(batch, rows, dead)

    def _add(self, fetched: FetchedTransaction, rows: Rows, dead: list[DeadLetter]) -> None:
        if fetched.payload is None:
            dead.append(DeadLetter("fetch", "the node returned no transaction", fetched.signature, fetched.slot))
            return
        decoded = self.decoder.decode(fetched.payload, slot=fetched.slot, signature=fetched.signature)
        if isinstance(decoded, Undecodable):
            dead.append(DeadLetter("decode", decoded.reason, fetched.signature, fetched.slot, fetched.payload))
            return
        commitment = "finalized" if decoded.slot <= self.finalized_slot else self.commitment
        mark = rows.mark()
        try:
            lost = self.projector.project(decoded, rows, commitment=commitment, tx_index=fetched.tx_index)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            rows.rollback(mark)
            reason = f"projection failed: {type(exc).__name__}: {exc}"
            dead.append(DeadLetter("project", reason, fetched.signature, fetched.slot, fetched.payload))
            return
        if decoded.warnings or lost:
            # stored with what could be read; what could not (a corrupt event, an unknown discriminator, a
            # log that does not match the instructions, events a truncated log lost) is kept here, with the
            # payload, to be replayed
            reason = "stored without what could not be decoded: " + "; ".join([*decoded.warnings, *lost])
            dead.append(DeadLetter(PARTIAL, reason[:4000], fetched.signature, fetched.slot, fetched.payload))

    def _cursor(self, batch: Batch) -> StoredCursor | None:
        if batch.cursor is None:
            return None
        details: dict[str, Any] = {"tip_slot": batch.tip_slot, "backfill": batch.backfill}
        times = [tx.payload.get("blockTime") for tx in batch.transactions if tx.payload]
        newest = max((t for t in times if isinstance(t, int)), default=None)
        if newest is not None:
            details["block_time"] = newest
            details["lag_seconds"] = max(0.0, round(time.time() - newest, 3))
        elif not batch.transactions and batch.cursor.slot >= batch.tip_slot:
            details["lag_seconds"] = 0.0  # nothing new up to the tip: caught up
        return StoredCursor(self.cursor_name, batch.cursor.slot, batch.cursor.signature, details)

    async def _isolate(self, batch: Batch, cursor: StoredCursor | None, dead: list[DeadLetter]) -> None:
        for index, fetched in enumerate(batch.transactions):
            rows = Rows()
            own: list[DeadLetter] = []
            self._add(fetched, rows, own)
            last = index == len(batch.transactions) - 1
            try:
                await self.sink.write(rows.records(), dead_letters=own, cursor=cursor if last else None)
            except SinkError as exc:
                if exc.transient:
                    raise
                refused = DeadLetter("sink", str(exc), fetched.signature, fetched.slot, fetched.payload)
                await self.sink.write({}, dead_letters=[refused], cursor=cursor if last else None)
                dead.append(refused)
        if not batch.transactions and cursor is not None:
            await self.sink.write({}, cursor=cursor)

    def _account(self, batch: Batch, rows: Rows, dead: list[DeadLetter]) -> None:
        stats = self.stats
        stats.batches += 1
        stats.transactions += len(batch.transactions)
        stats.events += rows.events
        stats.rows += rows.count()
        stats.dead_letters += len(dead)
        stats.failed += len(rows.tables.get("failed_attempts", {}))
        metrics.BATCHES.inc()
        metrics.TRANSACTIONS.labels("ok").inc(len(batch.transactions) - sum(d.stage != PARTIAL for d in dead))
        for letter in dead:
            metrics.DEAD_LETTERS.labels(letter.stage).inc()
            log.warning(
                "dead letter", extra={"stage": letter.stage, "signature": letter.signature, "reason": letter.reason}
            )
        for table, records in rows.tables.items():
            metrics.ROWS.labels(table).inc(len(records))
        events = rows.tables.get("decoded_events", {})
        if events:
            program_at, name_at = _EVENT_COLUMNS
            for (program, name), count in Counter((r[program_at], r[name_at]) for r in events.values()).items():
                metrics.EVENTS.labels(program, name).inc(count)
        metrics.TIP_SLOT.set(batch.tip_slot)
        if batch.cursor is not None:
            metrics.CURSOR_SLOT.set(batch.cursor.slot)
            metrics.SLOT_LAG.set(max(0, batch.tip_slot - batch.cursor.slot))
        now = time.time()
        for fetched in batch.transactions:
            block_time = fetched.payload.get("blockTime") if fetched.payload else None
            if isinstance(block_time, int):
                metrics.SECONDS_BEHIND.set(max(0.0, now - block_time))
                if not batch.backfill:
                    metrics.SLOT_TO_ROW.observe(max(0.0, now - block_time))
        if self.on_batch is not None:
            self.on_batch(batch, stats)

    # -- finality --------------------------------------------------------------------------------------

    async def _finality_loop(self) -> None:
        while True:
            await asyncio.sleep(self.finality_interval_s)
            try:
                await self.finalize_once()
            except (SinkError, OSError, TimeoutError) as exc:
                metrics.ERRORS.labels("finality").inc()
                log.warning("finality pass failed; will retry", extra={"reason": str(exc)})
            except Exception as exc:  # the cluster's client raises its own error type: never kill the loop
                metrics.ERRORS.labels("finality").inc()
                log.warning("finality pass failed; will retry", extra={"reason": f"{type(exc).__name__}: {exc}"})

    async def finalize_once(self) -> None:
        """Promote the rows of rooted slots; delete the rows of slots that died on the way to the root."""
        assert self.chain is not None
        rooted_tip = await self.chain.get_slot("finalized")
        self.finalized_slot = max(self.finalized_slot, rooted_tip)
        pending = await self.sink.confirmed_slots(rooted_tip)
        if not pending:
            return
        alive: set[int] = set()
        step = 400_000
        for start in range(pending[0], rooted_tip + 1, step):
            alive.update(await self.chain.get_blocks(start, min(rooted_tip, start + step - 1)))
        rooted = [s for s in pending if s in alive]
        dead = [s for s in pending if s not in alive]
        result = await self.sink.finalize(rooted, dead, cursor_name=self.cursor_name)
        if dead:
            self.source.forget_from(min(dead))
            self.projector.fees.forget_slots(dead)
            metrics.ERRORS.labels("dead_slot").inc(len(dead))
            log.warning(
                "slots died; their rows were removed",
                extra={
                    "dead_slots": dead,
                    "rows": result.deleted_rows,
                    "cursor": result.cursor.slot if result.cursor else None,
                },
            )
