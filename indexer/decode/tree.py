"""A transaction in any RPC encoding -> its account keys and its instructions in execution order, with paths.

Encodings: `json` (indexes into accountKeys, base58 data), `jsonParsed` (pubkeys, base58 data or a
`parsed` object without data), `base64`/`base58` (the wire bytes, read with solders). v0 messages resolve
their lookup-table accounts from `meta.loadedAddresses` (static keys, then loaded writable, then loaded
readonly). Inner instructions come from `meta.innerInstructions`, grouped by top-level index, each with its
`stackHeight`; when an old transaction has none, the heights come from the log's `invoke [n]` lines.

Paths: the top-level instruction `i` is `"i"` (the RPC's own index, as in InstructionError); its inner
instructions are numbered from 1 under their caller, as explorers show them: `"3.1"`, `"3.1.2"`.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import base58
import based58
from solders.transaction import VersionedTransaction

__all__ = ["Malformed", "Message", "RawInstruction", "parse_message", "with_paths"]

_INVOKE = re.compile(r"^Program (\S+) invoke \[(\d+)\]$")


class Malformed(Exception):
    """The transaction's shape is not one the RPC produces; the message says where."""


@dataclass(slots=True)
class RawInstruction:
    program_id: str
    accounts: tuple[str, ...]
    data: bytes
    stack_height: int | None
    path: str = ""


@dataclass(slots=True)
class Message:
    signature: str
    account_keys: tuple[str, ...]
    instructions: list[RawInstruction]  # execution order: each top-level one followed by its inner ones


def _b58(data: Any, where: str) -> bytes:
    if not isinstance(data, str):
        raise Malformed(f"{where}: data is {type(data).__name__}, not a base58 string")
    try:
        return based58.b58decode(data.encode()) if data else b""
    except ValueError as exc:
        raise Malformed(f"{where}: data is not base58: {exc}") from exc


def _key(keys: Sequence[str], index: Any, where: str) -> str:
    if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < len(keys):
        raise Malformed(f"{where} references account index {index!r} of {len(keys)}")
    return keys[index]


def _keys(keys: Sequence[str], indexes: list[Any], where: str) -> tuple[str, ...]:
    """The accounts at `indexes`, each checked to be an index into `keys` (the usual case at C speed)."""
    if indexes and set(map(type, indexes)) == {int} and min(indexes) >= 0 and max(indexes) < len(keys):
        return tuple(map(keys.__getitem__, indexes))
    return tuple(_key(keys, a, where) for a in indexes)


def _compiled(ix: Any, keys: Sequence[str], where: str) -> RawInstruction:
    """One instruction in the RPC's JSON shape (json or jsonParsed)."""
    if not isinstance(ix, Mapping):
        raise Malformed(f"{where} is not an object")
    height = ix.get("stackHeight")
    height = height if isinstance(height, int) else None
    if "programIdIndex" in ix:
        accounts = ix.get("accounts", [])
        if not isinstance(accounts, list):
            raise Malformed(f"{where}: accounts is not a list")
        return RawInstruction(
            _key(keys, ix["programIdIndex"], where),
            _keys(keys, accounts, where),
            _b58(ix.get("data", ""), where),
            height,
        )
    if "programId" in ix:
        program = ix["programId"]
        if not isinstance(program, str):
            raise Malformed(f"{where}: programId is not a string")
        if "parsed" in ix and "data" not in ix:
            return RawInstruction(program, (), b"", height)  # the RPC parsed it (System, Token, ...): no raw data
        accounts = ix.get("accounts", [])
        if not isinstance(accounts, list) or not all(isinstance(a, str) for a in accounts):
            raise Malformed(f"{where}: accounts are not pubkeys")
        return RawInstruction(program, tuple(accounts), _b58(ix.get("data", ""), where), height)
    raise Malformed(f"{where} has neither programIdIndex nor programId")


def _loaded(meta: Mapping[str, Any]) -> list[str]:
    loaded = meta.get("loadedAddresses") or {}
    if not isinstance(loaded, Mapping):
        raise Malformed("meta.loadedAddresses is not an object")
    out: list[str] = []
    for part in ("writable", "readonly"):
        values = loaded.get(part) or []
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise Malformed(f"meta.loadedAddresses.{part} is not a list of pubkeys")
        out += values
    return out


def parse_message(tx: Mapping[str, Any], meta: Mapping[str, Any]) -> Message:
    body = tx.get("transaction")
    top: list[RawInstruction]
    if isinstance(body, list):
        if len(body) != 2 or not isinstance(body[0], str) or body[1] not in ("base64", "base58"):
            raise Malformed("transaction is a list but not [data, 'base64'|'base58']")
        try:
            raw = base64.b64decode(body[0], validate=True) if body[1] == "base64" else base58.b58decode(body[0])
            wire = VersionedTransaction.from_bytes(raw)
        except (ValueError, TypeError) as exc:
            raise Malformed(f"transaction bytes unreadable: {exc}") from exc
        message = wire.message
        keys = [str(k) for k in message.account_keys] + _loaded(meta)
        signature = str(wire.signatures[0]) if wire.signatures else ""
        top = []
        for i, compiled in enumerate(message.instructions):
            where = f"instruction {i}"
            top.append(
                RawInstruction(
                    _key(keys, compiled.program_id_index, where),
                    tuple(_key(keys, a, where) for a in bytes(compiled.accounts)),
                    bytes(compiled.data),
                    1,
                )
            )
    elif isinstance(body, Mapping):
        message_json = body.get("message")
        signatures = body.get("signatures")
        if not isinstance(message_json, Mapping):
            raise Malformed("transaction.message missing")
        if not isinstance(signatures, list) or not signatures or not isinstance(signatures[0], str):
            raise Malformed("transaction.signatures missing")
        signature = signatures[0]
        raw_keys = message_json.get("accountKeys")
        if not isinstance(raw_keys, list):
            raise Malformed("transaction.message.accountKeys missing")
        if raw_keys and isinstance(raw_keys[0], Mapping):  # jsonParsed: loaded addresses are already listed
            keys = [str(k.get("pubkey")) for k in raw_keys]
        else:
            if not all(isinstance(k, str) for k in raw_keys):
                raise Malformed("transaction.message.accountKeys are not pubkeys")
            keys = list(raw_keys) + _loaded(meta)
        instructions = message_json.get("instructions")
        if not isinstance(instructions, list):
            raise Malformed("transaction.message.instructions missing")
        top = [_compiled(ix, keys, f"instruction {i}") for i, ix in enumerate(instructions)]
        for parsed in top:
            parsed.stack_height = 1
    else:
        raise Malformed("transaction missing")

    inner_groups = meta.get("innerInstructions") or []
    if not isinstance(inner_groups, list):
        raise Malformed("meta.innerInstructions is not a list")
    inner: dict[int, list[RawInstruction]] = {}
    for group in inner_groups:
        if not isinstance(group, Mapping) or not isinstance(group.get("index"), int):
            raise Malformed("an innerInstructions entry has no index")
        index = group["index"]
        if not 0 <= index < len(top):
            raise Malformed(f"innerInstructions index {index} of {len(top)} instructions")
        items = group.get("instructions") or []
        if not isinstance(items, list):
            raise Malformed(f"innerInstructions {index}: instructions is not a list")
        inner.setdefault(index, []).extend(
            _compiled(ix, keys, f"inner instruction {index}.{n}") for n, ix in enumerate(items)
        )
    ordered: list[RawInstruction] = []
    for i, first in enumerate(top):
        ordered.append(first)
        ordered += inner.get(i, [])
    return Message(signature, tuple(keys), ordered)


def heights_from_logs(instructions: list[RawInstruction], logs: Sequence[str]) -> None:
    """Old transactions carry no stackHeight: take each inner instruction's depth from its `invoke [n]` line."""
    if all(ix.stack_height is not None for ix in instructions):
        return
    depths = [int(m.group(2)) for line in logs if (m := _INVOKE.match(line))]
    if len(depths) == len(instructions):
        for ix, depth in zip(instructions, depths, strict=True):
            ix.stack_height = depth
    for ix in instructions:
        if ix.stack_height is None:
            ix.stack_height = 2  # no better knowledge: a direct child of its top-level instruction


def with_paths(instructions: list[RawInstruction]) -> None:
    """Give every instruction its path from the stack heights (execution order, depth first)."""
    top = -1
    stack: list[tuple[RawInstruction, int]] = []  # (instruction, children so far)
    for ix in instructions:
        height = ix.stack_height or 1
        if height <= 1:
            top += 1
            ix.path = str(top)
            stack = [(ix, 0)]
            continue
        if not stack:
            raise Malformed("an inner instruction comes before any top-level one")
        del stack[max(1, height - 1) :]  # the caller is at height - 1
        parent, children = stack[-1]
        children += 1
        stack[-1] = (parent, children)
        ix.path = f"{parent.path}.{children}"
        stack.append((ix, 0))
