"""Anchor IDLs in both formats (0.30+ and the legacy pre-0.30 one), compiled once into lookup tables.

0.30+: `address` at the top, explicit `discriminator`s, events that name a type in `types`, `pubkey`,
`{"defined": {"name": ...}}`, accounts `writable`/`signer`. Legacy: `metadata.address`, discriminators
derived (`sha256("event:Name")[:8]`, `sha256("global:snake_name")[:8]`), events with inline `fields`,
`publicKey`, `{"defined": "Name"}`, accounts `isMut`/`isSigner`. Both become the same `Idl`: discriminator
-> compiled reader, for events and instructions, and error code -> name.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from indexer.decode.borsh import Reader, compile_fields

__all__ = ["EventDef", "Idl", "InstructionDef", "load_idl"]


@dataclass(frozen=True, slots=True)
class EventDef:
    name: str
    discriminator: bytes
    read: Reader


@dataclass(frozen=True, slots=True)
class InstructionDef:
    name: str
    discriminator: bytes
    read: Reader
    accounts: tuple[str, ...]  # flattened names, nested groups as "group.name"


@dataclass(frozen=True, slots=True)
class Idl:
    name: str
    address: str | None
    legacy: bool
    events: dict[bytes, EventDef] = field(default_factory=dict)  # 8-byte discriminator -> event
    instructions: tuple[InstructionDef, ...] = ()
    errors: dict[int, str] = field(default_factory=dict)
    problems: tuple[str, ...] = ()  # parts of the IDL that could not be compiled (kept out, not fatal)

    def with_address(self, address: str) -> Idl:
        """The same program deployed at another address (a devnet IDL for the mainnet program)."""
        return replace(self, address=address)

    def instruction(self, data: bytes) -> InstructionDef | None:
        for ix in self.instructions:
            if data.startswith(ix.discriminator):
                return ix
        return None


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def _sighash(namespace: str, name: str) -> bytes:
    return hashlib.sha256(f"{namespace}:{name}".encode()).digest()[:8]


def _account_names(accounts: list[Any], prefix: str = "") -> list[str]:
    names: list[str] = []
    for account in accounts:
        name = prefix + str(account.get("name", "?"))
        if isinstance(account.get("accounts"), list):
            names += _account_names(account["accounts"], name + ".")
        else:
            names.append(name)
    return names


def load_idl(source: Path | str | dict[str, Any]) -> Idl:
    """Parse an Anchor IDL (a path or the parsed JSON). A malformed IDL is a ValueError saying what is wrong;
    a type the decoder cannot compile only leaves that event or instruction out (listed in `problems`)."""
    if isinstance(source, Path | str):
        try:
            raw = json.loads(Path(source).read_text())
        except (OSError, ValueError) as exc:
            raise ValueError(f"cannot read the IDL {source}: {exc}") from exc
    else:
        raw = source
    if not isinstance(raw, dict) or not isinstance(raw.get("instructions"), list):
        raise ValueError("not an Anchor IDL: no `instructions` list")
    metadata: dict[str, Any] = raw["metadata"] if isinstance(raw.get("metadata"), dict) else {}
    legacy = "address" not in raw and not any("discriminator" in ix for ix in raw["instructions"])
    address = raw.get("address") or metadata.get("address")
    name = str(raw.get("name") or metadata.get("name") or address or "unnamed")
    types: dict[str, Any] = {}
    for t in raw.get("types", []) or []:
        if isinstance(t, dict) and "name" in t:
            types[str(t["name"])] = t
    # legacy IDLs define account types under `accounts`; events may reference them
    for a in raw.get("accounts", []) or []:
        if isinstance(a, dict) and "type" in a and str(a.get("name")) not in types:
            types[str(a["name"])] = a
    problems: list[str] = []
    cache: dict[str, Reader] = {}

    events: dict[bytes, EventDef] = {}
    for event in raw.get("events", []) or []:
        try:
            event_name = str(event["name"])
            disc = bytes(event["discriminator"]) if "discriminator" in event else _sighash("event", event_name)
            if "fields" in event:
                reader = compile_fields(event["fields"], types, cache)
            else:
                definition = types.get(event_name)
                if definition is None:
                    raise ValueError(f"no type {event_name!r} for the event")
                body = definition.get("type", definition)
                reader = compile_fields(body.get("fields", []), types, cache)
            events[disc] = EventDef(event_name, disc, reader)
        except (ValueError, KeyError, TypeError) as exc:
            problems.append(f"event {event.get('name')!r}: {exc}")

    instructions: list[InstructionDef] = []
    for ix in raw["instructions"]:
        try:
            ix_name = str(ix["name"])
            disc = bytes(ix["discriminator"]) if "discriminator" in ix else _sighash("global", _snake(ix_name))
            reader = compile_fields(ix.get("args", []), types, cache)
            instructions.append(InstructionDef(ix_name, disc, reader, tuple(_account_names(ix.get("accounts", [])))))
        except (ValueError, KeyError, TypeError) as exc:
            problems.append(f"instruction {ix.get('name')!r}: {exc}")
    # the longest discriminator first, so that a prefix never shadows a longer one
    instructions.sort(key=lambda i: -len(i.discriminator))

    errors = {int(e["code"]): str(e["name"]) for e in raw.get("errors", []) or [] if "code" in e and "name" in e}
    return Idl(name, str(address) if address else None, legacy, events, tuple(instructions), errors, tuple(problems))
