"""Decoded transactions -> warehouse rows: the gift pool's events become its typed tables.

Pure: a `DecodedTransaction` in, tuples in the sink's column order out. Every transaction that touches
the program gets a `transactions` row; every decoded instruction and event of a program we have an IDL
for is kept as it is (`decoded_instructions`, `decoded_events`); the gift pool's own events become
creators, binding history, gifts, withdrawals, payouts and admin actions; a failed transaction becomes one
failed attempt and nothing else.

When the log was truncated, events the log lost are recovered from the instruction's arguments and the
balance changes (a gift's amount and post from its args, its fee from the treasury's balance change) and
marked `derived`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from indexer.decode.model import DecodedTransaction, Event, Instruction
from warehouse.sink import columns, key_of

__all__ = ["Projector", "Rows"]

# an instruction of the gift pool -> the admin action it records through ConfigUpdated
_CONFIG_KINDS = {
    "initialize": "initialize",
    "set_fee": "fee_change",
    "set_admin": "admin_change",
    "set_verifier": "verifier_change",
}


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
        lost: list[str] = []
        if tx.logs_truncated:
            events += self._recovered(tx, lost)
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

    def _recovered(self, tx: DecodedTransaction, lost: list[str]) -> list[Event]:
        """Gifts whose GiftSent the truncated log lost, rebuilt from the instruction and the balances; each
        other instruction of ours whose events the log lost (all of them, or some of a batch) is named in
        `lost`."""
        emitted = Counter(e.ix_path for e in tx.events if e.program_id == self.program_id)
        rebuilt: list[Event] = []
        for ix in tx.instructions:
            if ix.program_id != self.program_id or ix.logs_complete or ix.is_event_cpi:
                continue
            if not emitted[ix.path] and ix.name in ("gift_sol", "gift_token") and ix.named_accounts and ix.args:
                fields = self._gift_fields(tx, ix)
                if fields is not None:
                    rebuilt.append(Event(ix.path, 0, self.program_id, "GiftSent", fields, "log", derived=True))
                    continue
            if ix.name is None:
                continue  # not an instruction of the IDL: the decoder has said so
            missing = _events_of(ix) - emitted[ix.path]
            if missing > 0:
                lost.append(f"instruction {ix.path} ({ix.name}): {missing} event(s) lost to the truncated log")
        return rebuilt

    def _gift_fields(self, tx: DecodedTransaction, ix: Instruction) -> dict[str, Any] | None:
        accounts = ix.named_accounts or {}
        args = ix.args or {}
        amount = int(args.get("amount", 0))
        if ix.name == "gift_sol":
            treasury = accounts.get("treasury")
            if treasury not in tx.account_keys:
                return None
            at = tx.account_keys.index(treasury)
            fee = tx.post_balances[at] - tx.pre_balances[at]
            mint = None
        else:
            treasury_token = accounts.get("treasury_token")
            mint = accounts.get("mint")
            pre = {b.account: b.amount for b in tx.pre_token_balances}
            post = {b.account: b.amount for b in tx.post_token_balances}
            if treasury_token is None or treasury_token not in post:
                return None
            fee = post[treasury_token] - pre.get(treasury_token, 0)
        if not 0 <= fee <= amount:
            return None
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
