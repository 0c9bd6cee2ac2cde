"""The decoder: one transaction's JSON in, a `DecodedTransaction` (or an `Undecodable` with the reason) out.

It rebuilds the invocation tree (tree.py), walks the log alongside it to know which instruction wrote each
line (`invoke [n]` pushes the next instruction of the tree, `success`/`failed` pops), and reads events
two ways, scoped by the program id of the instruction that emitted them:
- `Program data: <base64>` lines, attributed to the instruction running when they were logged;
- emit_cpi! self-invocations: an inner instruction of program P, called by P, whose data starts with
  the tag e445a52e51cb9a1d, attributed to the calling instruction.
A program that emits one event both ways (pump.fun does) yields one Event with source "both".

A failed transaction yields no events (its would-be events go to `failed_events`). A `Log truncated` line
marks the instructions whose logs were cut; their events still come from self-CPIs. Event bytes longer
than the IDL's fields decode the known prefix and keep the rest (`drift`). Nothing here raises.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from indexer.decode.borsh import ShortRead
from indexer.decode.idl import Idl
from indexer.decode.model import DecodedTransaction, Event, Instruction, TokenBalance, TxError, Undecodable
from indexer.decode.tree import Malformed, RawInstruction, heights_from_logs, parse_message, with_paths

__all__ = ["EVENT_IX_TAG", "Decoder"]

EVENT_IX_TAG = bytes.fromhex("e445a52e51cb9a1d")  # sha256("anchor:event")[:8] reversed, Anchor's emit_cpi! tag
_DATA = "Program data: "
_FAILED = " failed: "

# Anchor's framework error codes (anchor-lang ErrorCode), for programs whose IDL lists only their own
ANCHOR_ERRORS = {
    100: "InstructionMissing", 101: "InstructionFallbackNotFound", 102: "InstructionDidNotDeserialize",
    103: "InstructionDidNotSerialize", 2000: "ConstraintMut", 2001: "ConstraintHasOne", 2002: "ConstraintSigner",
    2003: "ConstraintRaw", 2004: "ConstraintOwner", 2005: "ConstraintRentExempt", 2006: "ConstraintSeeds",
    2007: "ConstraintExecutable", 2009: "ConstraintAssociated", 2011: "ConstraintClose", 2012: "ConstraintAddress",
    2014: "ConstraintTokenMint", 2015: "ConstraintTokenOwner", 2019: "ConstraintSpace",
    3000: "AccountDiscriminatorAlreadySet", 3001: "AccountDiscriminatorNotFound",
    3002: "AccountDiscriminatorMismatch", 3003: "AccountDidNotDeserialize",
    3004: "AccountDidNotSerialize", 3005: "AccountNotEnoughKeys", 3006: "AccountNotMutable",
    3007: "AccountOwnedByWrongProgram", 3008: "InvalidProgramId", 3009: "InvalidProgramExecutable",
    3010: "AccountNotSigner", 3011: "AccountNotSystemOwned", 3012: "AccountNotInitialized",
    3014: "AccountNotAssociatedTokenAccount", 3015: "AccountSysvarMismatch", 3017: "AccountReallocExceedsLimit",
    4100: "DeclaredProgramIdMismatch", 5000: "Deprecated",
}  # fmt: skip


def _int(value: Any, where: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise Malformed(f"{where} is not an integer")
    return value


def _balances(values: Any, where: str) -> tuple[int, ...]:
    if values is None:
        return ()
    if not isinstance(values, list):
        raise Malformed(f"{where} is not a list")
    if values and set(map(type, values)) != {int}:  # exactly int: type(True) is bool
        raise Malformed(f"{where} holds a value that is not an integer")
    return tuple(values)


def _token_balances(values: Any, keys: Sequence[str], where: str) -> tuple[TokenBalance, ...]:
    if not values:
        return ()
    if not isinstance(values, list):
        raise Malformed(f"{where} is not a list")
    out = []
    for entry in values:
        if not isinstance(entry, Mapping):
            raise Malformed(f"{where} holds a non-object")
        index = _int(entry.get("accountIndex"), f"{where}.accountIndex")
        amount = (entry.get("uiTokenAmount") or {}).get("amount")
        if not isinstance(amount, str) or not amount.isdigit():
            raise Malformed(f"{where}: uiTokenAmount.amount is not a decimal string")
        account = keys[index] if 0 <= index < len(keys) else ""
        owner = entry.get("owner")
        out.append(
            TokenBalance(
                index, account, str(entry.get("mint", "")), owner if isinstance(owner, str) else None, int(amount)
            )
        )
    return tuple(out)


class Decoder:
    """Decodes transactions with the IDLs of the programs it knows (others still appear, undecoded)."""

    def __init__(self, idls: Iterable[Idl]) -> None:
        self.idls: dict[str, Idl] = {}
        for idl in idls:
            if idl.address is None:
                raise ValueError(f"the IDL {idl.name!r} has no address: give one with with_address()")
            self.idls[idl.address] = idl

    def decode(
        self, tx: Mapping[str, Any], *, slot: int | None = None, signature: str | None = None
    ) -> DecodedTransaction | Undecodable:
        try:
            return self._decode(tx, slot, signature)
        except Malformed as exc:
            return Undecodable(str(exc), signature, slot)
        except Exception as exc:  # the promise is "never raises": anything unforeseen is a dead letter too
            return Undecodable(f"unexpected {type(exc).__name__}: {exc}", signature, slot)

    def _decode(self, tx: Mapping[str, Any], slot: int | None, signature: str | None) -> DecodedTransaction:
        if not isinstance(tx, Mapping):
            raise Malformed("not a transaction object")
        meta = tx.get("meta")
        if not isinstance(meta, Mapping):
            raise Malformed("meta missing")
        message = parse_message(tx, meta)
        logs_raw = meta.get("logMessages")
        logs: list[str] = [line for line in logs_raw if isinstance(line, str)] if isinstance(logs_raw, list) else []
        heights_from_logs(message.instructions, logs)
        with_paths(message.instructions)
        tx_slot = tx.get("slot", slot)
        if tx_slot is None:
            raise Malformed("slot unknown (neither in the transaction nor given)")
        tx_slot = _int(tx_slot, "slot")
        block_time = tx.get("blockTime")
        block_time = block_time if isinstance(block_time, int) and not isinstance(block_time, bool) else None
        keys = message.account_keys
        if not keys:
            raise Malformed("no account keys")
        warnings: list[str] = []

        log_data, complete, truncated, failing_program = self._walk(message.instructions, logs, warnings)
        instructions = self._instructions(message.instructions, complete, warnings)
        events = self._events(message.instructions, log_data, truncated, warnings)

        err = meta.get("err")
        error = self._error(err, message.instructions, failing_program) if err is not None else None
        compute = meta.get("computeUnitsConsumed")
        return DecodedTransaction(
            signature=message.signature or signature or "",
            slot=tx_slot,
            block_time=block_time,
            fee=_int(meta.get("fee", 0), "meta.fee"),
            fee_payer=keys[0],
            compute_units=compute if isinstance(compute, int) else None,
            success=err is None,
            error=error,
            logs_truncated=truncated,
            account_keys=keys,
            pre_balances=_balances(meta.get("preBalances"), "meta.preBalances"),
            post_balances=_balances(meta.get("postBalances"), "meta.postBalances"),
            pre_token_balances=_token_balances(meta.get("preTokenBalances"), keys, "meta.preTokenBalances"),
            post_token_balances=_token_balances(meta.get("postTokenBalances"), keys, "meta.postTokenBalances"),
            instructions=instructions,
            events=tuple(events) if err is None else (),
            failed_events=tuple(events) if err is not None else (),
            warnings=tuple(warnings),
        )

    # -- the log, alongside the tree -------------------------------------------------------------------

    def _walk(
        self, instructions: list[RawInstruction], logs: Sequence[str], warnings: list[str]
    ) -> tuple[dict[int, list[bytes]], list[bool], bool, str | None]:
        """Which instruction logged each `Program data:` line; which instructions' logs are complete;
        whether the log was truncated; the program that failed first (the deepest), if any."""
        data: dict[int, list[bytes]] = {}
        finished = [False] * len(instructions)
        stack: list[int | None] = []
        position = 0
        truncated = False
        failing: str | None = None
        for line in logs:
            if line.startswith(_DATA):
                if stack and stack[-1] is not None:
                    chunk = line[len(_DATA) :].split(" ", 1)[0]
                    try:
                        data.setdefault(stack[-1], []).append(base64.b64decode(chunk, validate=True))
                    except (binascii.Error, ValueError):
                        warnings.append(f"unreadable Program data in instruction {instructions[stack[-1]].path}")
                continue
            if not line.startswith("Program "):
                if line == "Log truncated":
                    truncated = True
                    break
                continue
            if line.endswith("]") and " invoke [" in line:
                program, _, depth_text = line[8:-1].partition(" invoke [")
                depth = int(depth_text) if depth_text.isdigit() else len(stack) + 1
                del stack[max(0, depth - 1) :]
                found = None
                for index in range(position, len(instructions)):
                    candidate = instructions[index]
                    if candidate.program_id == program and (candidate.stack_height or 1) == depth:
                        found = index
                        position = index + 1
                        break
                if found is None:
                    warnings.append(f"log invokes {program} at depth {depth} with no matching instruction")
                stack.append(found)
            elif line.endswith(" success"):
                if stack:
                    done = stack.pop()
                    if done is not None:
                        finished[done] = True
            elif _FAILED in line:
                if failing is None:
                    failing = line[8:].split(" ", 1)[0]
                if stack:
                    done = stack.pop()
                    if done is not None:
                        finished[done] = True
        # without a truncation every instruction's log is whole (a failed transaction stops early: nothing lost)
        complete = [True] * len(instructions) if not truncated else finished
        return data, complete, truncated, failing

    # -- instructions ----------------------------------------------------------------------------------

    def _instructions(
        self, raw: list[RawInstruction], complete: list[bool], warnings: list[str]
    ) -> tuple[Instruction, ...]:
        out = []
        for index, ix in enumerate(raw):
            is_event = self._is_event_cpi(raw, index)
            name = args = named = None
            idl = self.idls.get(ix.program_id)
            if idl is not None and not is_event:
                definition = idl.instruction(ix.data)
                if definition is None:
                    warnings.append(f"instruction {ix.path}: unknown discriminator {ix.data[:8].hex()} for {idl.name}")
                else:
                    name = definition.name
                    try:
                        value, _ = definition.read(ix.data, len(definition.discriminator))
                        args = value if isinstance(value, dict) else {"args": value}
                    except ShortRead as exc:
                        warnings.append(f"instruction {ix.path} ({name}): args unreadable: {exc}")
                    named = dict(zip(definition.accounts, ix.accounts, strict=False))
                    for extra, key in enumerate(ix.accounts[len(definition.accounts) :]):
                        named[f"remaining.{extra}"] = key
            out.append(
                Instruction(
                    path=ix.path,
                    program_id=ix.program_id,
                    accounts=ix.accounts,
                    data=ix.data,
                    stack_height=ix.stack_height or 1,
                    name=name,
                    args=args,
                    named_accounts=named,
                    logs_complete=complete[index],
                    is_event_cpi=is_event,
                )
            )
        return tuple(out)

    @staticmethod
    def _is_event_cpi(raw: list[RawInstruction], index: int) -> bool:
        ix = raw[index]
        if (ix.stack_height or 1) <= 1 or not ix.data.startswith(EVENT_IX_TAG):
            return False
        parent_path = ix.path.rsplit(".", 1)[0]
        for candidate in reversed(raw[:index]):
            if candidate.path == parent_path:
                return candidate.program_id == ix.program_id
        return False

    # -- events ----------------------------------------------------------------------------------------

    def _events(
        self, raw: list[RawInstruction], log_data: dict[int, list[bytes]], truncated: bool, warnings: list[str]
    ) -> list[Event]:
        by_path: dict[str, tuple[str, list[bytes], list[bytes]]] = {}  # path -> (program, log, cpi)
        for index, ix in enumerate(raw):
            logged = log_data.get(index)
            if logged and ix.program_id in self.idls:
                by_path.setdefault(ix.path, (ix.program_id, [], []))[1].extend(logged)
            if self._is_event_cpi(raw, index) and ix.program_id in self.idls:
                parent = ix.path.rsplit(".", 1)[0]
                by_path.setdefault(parent, (ix.program_id, [], []))[2].append(ix.data[8:])
        events: list[Event] = []
        for path, (program, logged, cpi) in by_path.items():
            unused = list(cpi)
            emitted: list[tuple[bytes, str]] = []
            for payload in logged:
                if payload in unused:
                    unused.remove(payload)
                    emitted.append((payload, "both"))
                else:
                    emitted.append((payload, "log"))
            emitted += [(payload, "cpi") for payload in unused]
            idl = self.idls[program]
            for event_index, (payload, source) in enumerate(emitted):
                event = self._event(idl, program, path, event_index, payload, source, warnings)
                if event is not None:
                    events.append(event)
        return events

    @staticmethod
    def _event(
        idl: Idl, program: str, path: str, index: int, payload: bytes, source: str, warnings: list[str]
    ) -> Event | None:
        definition = idl.events.get(payload[:8])
        if definition is None:
            warnings.append(f"instruction {path}: unknown event discriminator {payload[:8].hex()} for {idl.name}")
            return None
        try:
            fields, end = definition.read(payload, 8)
        except ShortRead as exc:
            warnings.append(f"instruction {path}: event {definition.name} shorter than the IDL says: {exc}")
            return None
        extra = payload[end:]
        return Event(path, index, program, definition.name, fields, source, drift=bool(extra), extra=extra)  # type: ignore[arg-type]

    # -- errors ----------------------------------------------------------------------------------------

    def _error(self, err: Any, raw: list[RawInstruction], failing: str | None) -> TxError:
        index = code = name = program = None
        if (
            isinstance(err, Mapping)
            and isinstance(err.get("InstructionError"), list)
            and len(err["InstructionError"]) == 2
        ):
            index, detail = err["InstructionError"]
            if isinstance(index, int):
                top = [ix for ix in raw if (ix.stack_height or 1) == 1]
                program = top[index].program_id if 0 <= index < len(top) else None
            if isinstance(detail, Mapping) and "Custom" in detail and isinstance(detail["Custom"], int):
                code = detail["Custom"]
                program = failing or program  # the deepest failing program raised the custom code
            elif isinstance(detail, str):
                name = detail
            elif isinstance(detail, Mapping) and detail:
                name = str(next(iter(detail)))
        elif isinstance(err, str):
            name = err
        elif isinstance(err, Mapping) and err:
            name = str(next(iter(err)))
        if code is not None:
            idl = self.idls.get(program or "")
            name = (idl.errors.get(code) if idl else None) or ANCHOR_ERRORS.get(code)
        return TxError(err, index if isinstance(index, int) else None, program, code, name)
