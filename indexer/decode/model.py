"""The decoder's output: frozen values, JSON-able field values, nothing that does I/O.

A transaction decodes into its invocation tree (every instruction with a path such as `3`, `3.1`,
`3.1.2`), the events its programs emitted (scoped by program id and attributed to the emitting
instruction's path), and its outcome. Input that cannot be read at all becomes an `Undecodable` with the
reason; the decoder never raises.

Field values are JSON-able so that they can be stored as JSONB as they are: integers of any width are
Python ints, pubkeys base58 strings, `bytes`/`[u8; N]` lists of ints, options None or the value, unit
enum variants their name, enum variants with fields `{"Variant": fields}`, floats floats.
Strings are text PostgreSQL accepts: NUL and invalid UTF-8 come out as U+FFFD, and such a string is a
`LossyText` (a str) carrying the exact bytes in `raw` (see borsh.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "DecodedTransaction",
    "Event",
    "Instruction",
    "TokenBalance",
    "TxError",
    "Undecodable",
]


@dataclass(frozen=True, slots=True)
class Instruction:
    """One node of the invocation tree."""

    path: str  # "3" for the fourth top-level instruction, "3.1" for its first inner one
    program_id: str
    accounts: tuple[str, ...]  # resolved pubkeys (lookup tables applied)
    data: bytes
    stack_height: int  # 1 for top level
    name: str | None = None  # from the program's IDL; None when the program or discriminator is unknown
    args: dict[str, Any] | None = None
    named_accounts: dict[str, str] | None = None  # IDL account name -> pubkey (nested groups flattened a.b)
    logs_complete: bool = True  # False when the log was truncated before this instruction finished
    is_event_cpi: bool = False  # an emit_cpi! self-invocation carrying an event (tag e445a52e51cb9a1d)


@dataclass(frozen=True, slots=True)
class Event:
    """One event, once, however many ways it was emitted."""

    ix_path: str  # the instruction that emitted it (for emit_cpi!, the parent of the self-CPI)
    event_index: int  # 0, 1, ... among the events of that instruction, in emission order
    program_id: str
    name: str
    fields: dict[str, Any]
    source: Literal["log", "cpi", "both"]
    derived: bool = False  # recovered around a truncated log rather than read from it
    drift: bool = False  # the bytes were longer than the IDL's fields: the known prefix decoded
    extra: bytes = b""  # the bytes past the IDL's fields when drift is True


@dataclass(frozen=True, slots=True)
class TxError:
    """Why a transaction failed: the raw `meta.err` and what could be read out of it."""

    err: Any  # meta.err as the RPC gave it
    instruction_index: int | None = None  # top-level index from InstructionError
    program_id: str | None = None  # the program of that instruction
    code: int | None = None  # Custom(n)
    name: str | None = None  # the IDL's error name for code, or the builtin error's name


@dataclass(frozen=True, slots=True)
class TokenBalance:
    account_index: int
    account: str
    mint: str
    owner: str | None
    amount: int  # base units


@dataclass(frozen=True, slots=True)
class DecodedTransaction:
    signature: str
    slot: int
    block_time: int | None
    fee: int
    fee_payer: str
    compute_units: int | None
    success: bool
    error: TxError | None
    logs_truncated: bool
    account_keys: tuple[str, ...]  # static keys then loaded writable then loaded readonly
    pre_balances: tuple[int, ...]
    post_balances: tuple[int, ...]
    pre_token_balances: tuple[TokenBalance, ...]
    post_token_balances: tuple[TokenBalance, ...]
    instructions: tuple[Instruction, ...]  # every node, depth first, in execution order
    events: tuple[Event, ...]  # always empty when success is False
    failed_events: tuple[Event, ...] = ()  # what the logs of a failed transaction claim; never facts
    warnings: tuple[str, ...] = field(default=())  # what was odd but not fatal (unknown discriminators, ...)

    def instruction(self, path: str) -> Instruction | None:
        return next((ix for ix in self.instructions if ix.path == path), None)


@dataclass(frozen=True, slots=True)
class Undecodable:
    """Input the decoder could not read; it goes to the dead-letter table with `reason`."""

    reason: str
    signature: str | None = None
    slot: int | None = None
