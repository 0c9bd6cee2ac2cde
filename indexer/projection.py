"""Decoded transactions -> warehouse rows: the gift pool's events become its typed tables.

Pure: a `DecodedTransaction` in, tuples in the sink's column order out. Every transaction that touches
the program gets a `transactions` row; every decoded instruction and event of a program we have an IDL
for is kept as it is (`decoded_instructions`, `decoded_events`); the gift pool's own events become
creators, binding history, gifts, withdrawals, payouts and admin actions; a failed transaction becomes one
failed attempt and nothing else.

When the log was truncated, events the log lost are recovered from the instruction's arguments and marked
`derived`: a single gift's amount, post and memo from its args, its fee computed as the program computes it
from the fee in force at that point of the chain (never read off the treasury's balance, which other
transfers in the same transaction move too). The projector learns the fee's history from the ConfigUpdated
events it projects (each carries the fee before and after); the pipeline seeds it with the history already
in the warehouse. A gift whose fee in force is unknown or ambiguous is not rebuilt but named as lost.

Strings arrive from the decoder already safe to store (NUL and invalid UTF-8 replaced, see
indexer/decode/borsh.py); a gift's memo and post id that were changed on the way keep their exact bytes in
`memo_bytes` and `post_id_bytes` (NULL when the text is the bytes).
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from indexer.decode.model import DecodedTransaction, Event, Instruction
from warehouse.sink import columns, key_of

__all__ = ["FeeChange", "FeeSchedule", "Projector", "Rows", "fee_of"]

# an instruction of the gift pool -> the admin action it records through ConfigUpdated
_CONFIG_KINDS = {
    "initialize": "initialize",
    "set_fee": "fee_change",
    "set_admin": "admin_change",
    "set_verifier": "verifier_change",
}


_U64 = (1 << 64) - 1


def fee_of(amount: int, fee_bps: int) -> int:
    """The program's fee for a gift of `amount` (gift_pool.c fee_of): floor(amount * bps / 10000), computed
    in u64 without a 128-bit product, exactly as on chain."""
    return ((amount // 10000) * fee_bps + ((amount % 10000) * fee_bps) // 10000) & _U64


def _ix_order(path: str) -> tuple[int, ...]:
    return tuple(int(part) for part in path.split(".") if part.isdigit())


@dataclass(frozen=True, slots=True)
class FeeChange:
    """One ConfigUpdated: the fee before it and after it, and where on the chain it happened."""

    slot: int
    tx_index: int | None  # position in the block, when the source knew it
    signature: str
    ix_path: str
    fee_bps: int
    previous_fee_bps: int


class FeeSchedule:
    """The gift pool's fee over the chain's history, from its ConfigUpdated events.

    Two points of one slot in different transactions are ordered only when both know their position in the
    block; otherwise a change there leaves the fee at the other point unknown (unless it changed nothing).
    Safe to use from the pipeline's worker thread and its event loop at once."""

    def __init__(self, changes: Iterable[FeeChange] = ()) -> None:
        self._changes: dict[tuple[str, str], FeeChange] = {}
        self._lock = threading.Lock()
        for change in changes:
            self.note(change)

    def __len__(self) -> int:
        return len(self._changes)

    def note(self, change: FeeChange) -> None:
        with self._lock:
            self._changes[(change.signature, change.ix_path)] = change  # a replayed event changes nothing

    def forget_slots(self, slots: Iterable[int]) -> None:
        """Drop the changes of slots that died (their transactions never happened)."""
        dead = set(slots)
        with self._lock:
            for key in [k for k, c in self._changes.items() if c.slot in dead]:
                del self._changes[key]

    @staticmethod
    def _before(change: FeeChange, slot: int, tx_index: int | None, signature: str, ix_path: str) -> bool | None:
        """Whether `change` happened before the point; None when their order is unknown."""
        if change.signature == signature:
            return _ix_order(change.ix_path) < _ix_order(ix_path)
        if change.slot != slot:
            return change.slot < slot
        if change.tx_index is None or tx_index is None:
            return None
        return change.tx_index < tx_index

    def fee_bps_at(self, slot: int, tx_index: int | None, signature: str, ix_path: str) -> int | None:
        """The fee in force at a point of the chain, or None when the known history cannot tell."""
        with self._lock:
            changes = list(self._changes.values())
        before: list[FeeChange] = []
        after: list[FeeChange] = []
        for change in changes:
            order = self._before(change, slot, tx_index, signature, ix_path)
            if order is None:
                if change.fee_bps != change.previous_fee_bps:
                    return None  # the fee changed at a point we cannot place against this one
                continue
            (before if order else after).append(change)

        def position(c: FeeChange) -> tuple[int, int, tuple[int, ...]]:
            return (c.slot, c.tx_index if c.tx_index is not None else -1, _ix_order(c.ix_path))

        last = max(before, key=position) if before else None
        following = min(after, key=position) if after else None
        if last is not None and following is not None and last.fee_bps != following.previous_fee_bps:
            return None  # a change we have not seen lies between them, on an unknown side of this point
        if last is not None:
            return last.fee_bps
        return following.previous_fee_bps if following is not None else None


@dataclass
class Rows:
    """Rows of one batch by table, deduplicated on each table's key (the last copy wins)."""

    tables: dict[str, dict[tuple[Any, ...], tuple[Any, ...]]] = field(default_factory=dict)
    events: int = 0
    _added: list[tuple[str, tuple[Any, ...]]] = field(default_factory=list)

    def add(self, table: str, row: dict[str, Any]) -> None:
        record = tuple(map(row.get, columns(table)))
        key = key_of(table)(record)
        self.tables.setdefault(table, {})[key] = record
        self._added.append((table, key))

    def mark(self) -> tuple[int, int]:
        return len(self._added), self.events

    def rollback(self, mark: tuple[int, int]) -> None:
        """Forget what was added since `mark` (a transaction whose projection failed half-way)."""
        added, self.events = mark
        for table, key in self._added[added:]:
            self.tables[table].pop(key, None)
        del self._added[added:]

    def records(self) -> dict[str, list[tuple[Any, ...]]]:
        return {name: list(rows.values()) for name, rows in self.tables.items()}

    def count(self) -> int:
        return sum(len(rows) for rows in self.tables.values())


def _time(block_time: int | None) -> datetime | None:
    return datetime.fromtimestamp(block_time, UTC) if block_time is not None else None


def _events_of(ix: Instruction) -> int:
    """How many events a successful gift pool instruction emits: one each, a GiftSent per gift of a batch,
    a Withdrawn per (creator, destination) pair of a batch payout and its BatchPaid."""
    if ix.name == "batch_gift":
        return len((ix.args or {}).get("gifts") or ())
    if ix.name == "batch_withdraw":
        return (len(ix.accounts) - 2) // 2 + 1
    return 1


@dataclass
class Projector:
    """Turns decoded transactions of one program into rows."""

    program_id: str
    known_programs: frozenset[str] = frozenset()  # programs whose instructions and events are kept
    fees: FeeSchedule = field(default_factory=FeeSchedule)  # the fee's history, for gifts rebuilt from args

    def project(self, tx: DecodedTransaction, rows: Rows, *, commitment: str, tx_index: int | None = None) -> list[str]:
        """Add the transaction's rows; returns what could not be projected (facts a truncated log lost and
        nothing could rebuild), for a dead letter beside the rows."""
        base = {
            "signature": tx.signature,
            "slot": tx.slot,
            "tx_index": tx_index,
            "block_time": _time(tx.block_time),
            "commitment": commitment,
        }
        rows.add("slots", {"slot": tx.slot, "block_time": base["block_time"], "status": commitment})
        error = tx.error
        rows.add(
            "transactions",
            {
                **base,
                "success": tx.success,
                "err": error.err if error else None,
                "error_program": error.program_id if error else None,
                "error_code": error.code if error else None,
                "error_name": error.name if error else None,
                "fee": tx.fee,
                "compute_units": tx.compute_units,
                "logs_truncated": tx.logs_truncated,
                "fee_payer": tx.fee_payer,
            },
        )
        kept = self.known_programs | {self.program_id}
        for ix in tx.instructions:
            if ix.program_id in kept and not ix.is_event_cpi:
                rows.add(
                    "decoded_instructions",
                    {
                        "signature": tx.signature,
                        "ix_path": ix.path,
                        "slot": tx.slot,
                        "program_id": ix.program_id,
                        "name": ix.name,
                        "args": ix.args,
                        "accounts": ix.named_accounts or list(ix.accounts),
                        "derived": False,
                    },
                )
        if not tx.success:
            failing = self._failing_instruction(tx)
            rows.add(
                "failed_attempts",
                {
                    **base,
                    "fee_payer": tx.fee_payer,
                    "instruction": failing,
                    "error_program": error.program_id if error else None,
                    "error_code": error.code if error else None,
                    "error_name": error.name if error else None,
                    "err": error.err if error else None,
                },
            )
            return []
        events = list(tx.events)
        for event in events:
            if event.program_id == self.program_id and event.name == "ConfigUpdated":
                f = event.fields
                self.fees.note(
                    FeeChange(tx.slot, tx_index, tx.signature, event.ix_path, f["fee_bps"], f["previous_fee_bps"])
                )
        lost: list[str] = []
        if tx.logs_truncated:
            events += self._recovered(tx, lost, tx_index)
        for event in events:
            if event.program_id not in kept:
                continue
            rows.events += 1
            rows.add(
                "decoded_events",
                {
                    "signature": tx.signature,
                    "ix_path": event.ix_path,
                    "event_index": event.event_index,
                    "slot": tx.slot,
                    "program_id": event.program_id,
                    "name": event.name,
                    "fields": event.fields,
                    "derived": event.derived,
                    "drift": event.drift,
                    "extra_hex": event.extra.hex() if event.extra else None,
                },
            )
            if event.program_id == self.program_id:
                self._gift_pool(tx, event, base, rows)
        return lost

    def _failing_instruction(self, tx: DecodedTransaction) -> str | None:
        error = tx.error
        if error is not None and error.instruction_index is not None:
            ix = tx.instruction(str(error.instruction_index))
            if ix is not None:
                return ix.name if ix.program_id == self.program_id else ix.name or ix.program_id
        ours = [ix.name for ix in tx.instructions if ix.program_id == self.program_id and ix.name]
        return ours[0] if ours else None

    def _gift_pool(self, tx: DecodedTransaction, event: Event, base: dict[str, Any], rows: Rows) -> None:
        f = event.fields
        fact = {**base, "ix_path": event.ix_path, "event_index": event.event_index}
        name = event.name
        if name == "GiftSent":
            rows.add(
                "gifts",
                {
                    **fact,
                    "creator": f["creator"],
                    "fan": f["fan"],
                    "mint": f["mint"],
                    "amount": f["amount"],
                    "fee": f["fee"],
                    "post_id": f["post_id"],
                    "memo": f["memo"],
                    "derived": event.derived,
                    # the exact bytes where the text is not them (a LossyText from the decoder)
                    "post_id_bytes": getattr(f["post_id"], "raw", None),
                    "memo_bytes": getattr(f["memo"], "raw", None),
                },
            )
        elif name == "Withdrawn":
            rows.add(
                "withdrawals",
                {
                    **fact,
                    "creator": f["creator"],
                    "authority": f["authority"],
                    "destination": f["destination"],
                    "mint": f["mint"],
                    "amount": f["amount"],
                    "by_admin": f["by_admin"],
                },
            )
        elif name == "CreatorRegistered":
            rows.add(
                "creators",
                {
                    **base,
                    "creator": f["creator"],
                    "platform": f["platform"],
                    "handle": f["handle"],
                    "handle_key": str(f["handle"]).lower(),
                    "registered_by": f["registered_by"],
                },
            )
        elif name == "CreatorBound":
            rows.add(
                "creator_bindings",
                {
                    **fact,
                    "creator": f["creator"],
                    "authority": f["authority"],
                    "previous_authority": f["previous_authority"],
                    "verifier": f["verifier"],
                },
            )
            if f["previous_authority"] is not None and f["previous_authority"] != f["authority"]:
                details = {"creator": f["creator"], "previous": f["previous_authority"], "new": f["authority"]}
                rows.add("admin_actions", {**fact, "kind": "rebind", "actor": f["verifier"], "details": details})
        elif name == "BatchPaid":
            rows.add(
                "batch_payouts",
                {**fact, "admin": f["admin"], "mint": f["mint"], "creators": f["creators"], "total": f["total"]},
            )
        elif name in ("Paused", "Unpaused"):
            kind = "pause" if name == "Paused" else "unpause"
            rows.add("admin_actions", {**fact, "kind": kind, "actor": f["admin"], "details": {}})
        elif name == "ConfigUpdated":
            ix = tx.instruction(event.ix_path)
            named = _CONFIG_KINDS.get(ix.name or "") if ix is not None else None
            kind = named or (
                "fee_change"
                if f["fee_bps"] != f["previous_fee_bps"]
                else "admin_change"
                if f["admin"] != f["previous_admin"]
                else "verifier_change"
            )
            details = {k: v for k, v in f.items() if k != "timestamp"}
            rows.add("admin_actions", {**fact, "kind": kind, "actor": f["admin"], "details": details})

    def _recovered(self, tx: DecodedTransaction, lost: list[str], tx_index: int | None) -> list[Event]:
        """Gifts whose GiftSent the truncated log lost, rebuilt from the instruction and the fee in force;
        each other instruction of ours whose events the log lost (all of them, some of a batch, a gift whose
        fee in force is unknown) is named in `lost`."""
        emitted = Counter(e.ix_path for e in tx.events if e.program_id == self.program_id)
        rebuilt: list[Event] = []
        for ix in tx.instructions:
            if ix.program_id != self.program_id or ix.logs_complete or ix.is_event_cpi:
                continue
            if not emitted[ix.path] and ix.name in ("gift_sol", "gift_token") and ix.named_accounts and ix.args:
                fields = self._gift_fields(tx, ix, tx_index)
                if isinstance(fields, dict):
                    rebuilt.append(Event(ix.path, 0, self.program_id, "GiftSent", fields, "log", derived=True))
                else:
                    lost.append(f"instruction {ix.path} ({ix.name}): 1 event(s) lost to the truncated log ({fields})")
                continue
            if ix.name is None:
                continue  # not an instruction of the IDL: the decoder has said so
            missing = _events_of(ix) - emitted[ix.path]
            if missing > 0:
                lost.append(f"instruction {ix.path} ({ix.name}): {missing} event(s) lost to the truncated log")
        return rebuilt

    def _gift_fields(self, tx: DecodedTransaction, ix: Instruction, tx_index: int | None) -> dict[str, Any] | str:
        """The GiftSent the program emitted for `ix`, or why it cannot be rebuilt exactly."""
        accounts = ix.named_accounts or {}
        args = ix.args or {}
        amount = args.get("amount")
        mint = accounts.get("mint") if ix.name == "gift_token" else None
        if not isinstance(amount, int) or isinstance(amount, bool) or not 0 < amount <= _U64:
            return "not rebuilt: no readable amount"
        if not accounts.get("fan") or not accounts.get("creator") or (ix.name == "gift_token" and not mint):
            return "not rebuilt: accounts missing"
        fee_bps = self.fees.fee_bps_at(tx.slot, tx_index, tx.signature, ix.path)
        if fee_bps is None:
            return "not rebuilt: the fee in force at its slot is unknown"
        fee = fee_of(amount, fee_bps)
        if fee > amount:
            return f"not rebuilt: a fee of {fee_bps} bps is above 100 %"
        return {
            "fan": accounts.get("fan"),
            "creator": accounts.get("creator"),
            "mint": mint,
            "amount": amount,
            "fee": fee,
            "post_id": args.get("post_id", ""),
            "memo": args.get("memo", ""),
            "timestamp": tx.block_time,
        }
