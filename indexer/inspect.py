"""`memefans decode FILE [--idl IDL ...] [--program-id ID]`: look at one real transaction (or a whole block).

FILE is a getTransaction reply (the JSON-RPC envelope or the bare result), a block's transaction entry, a
getBlock reply (then every transaction is decoded and a summary counts events by program and name), or a
`.zip` holding one of those. Prints JSON on stdout (bytes as hex). Exit 0 when decoded, 1 when the input
is undecodable (the reason on stderr), 2 on bad usage. Without --idl, our gift pool's IDL is used.
"""

from __future__ import annotations

import argparse
import json
import sys
import zipfile
from collections import Counter
from dataclasses import asdict
from pathlib import Path
from typing import Any

from indexer.decode import DecodedTransaction, Decoder, Undecodable, load_idl
from indexer.settings import DEFAULT_IDL
from indexer.sources.replay import _is_json_member

__all__ = ["main", "to_json"]


def _plain(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def to_json(decoded: DecodedTransaction) -> dict[str, Any]:
    """The decoded transaction as plain JSON (balances left out: they are in the input already)."""
    out = _plain(asdict(decoded))
    for noisy in ("pre_balances", "post_balances", "account_keys"):
        out.pop(noisy, None)
    return dict(out)


def _read(path: Path) -> Any:
    if path.suffix == ".zip":
        with zipfile.ZipFile(path) as archive:
            (member,) = [n for n in archive.namelist() if _is_json_member(n)][:1]
            return json.loads(archive.read(member))
    return json.loads(path.read_text())


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="memefans decode", description=__doc__.split("\n\n")[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--idl", type=Path, action="append", help="an Anchor IDL (repeat for several programs)")
    parser.add_argument("--program-id", help="the address of the (single) IDL, when it lacks one or differs")
    parser.add_argument("--slot", type=int, help="the slot, for a block's transaction entry that lacks one")
    args = parser.parse_args(argv)
    try:
        idls = [load_idl(p) for p in (args.idl or [DEFAULT_IDL])]
    except ValueError as exc:
        print(f"memefans decode: {exc}", file=sys.stderr)
        return 2
    if args.program_id:
        if len(idls) != 1:
            print("memefans decode: --program-id needs exactly one --idl", file=sys.stderr)
            return 2
        idls = [idls[0].with_address(args.program_id)]
    missing = [i.name for i in idls if i.address is None]
    if missing:
        print(f"memefans decode: the IDL {missing[0]!r} has no address: give --program-id", file=sys.stderr)
        return 2
    try:
        document = _read(args.file)
    except (OSError, ValueError) as exc:
        print(f"memefans decode: cannot read {args.file}: {exc}", file=sys.stderr)
        return 2
    decoder = Decoder(idls)
    result = document.get("result", document) if isinstance(document, dict) else document
    if isinstance(result, dict) and isinstance(result.get("transactions"), list):
        return _block(decoder, result, args.slot)
    decoded = decoder.decode(result if isinstance(result, dict) else {}, slot=args.slot)
    if isinstance(decoded, Undecodable):
        print(f"memefans decode: undecodable: {decoded.reason}", file=sys.stderr)
        return 1
    print(json.dumps(to_json(decoded), indent=2))
    return 0


def _block(decoder: Decoder, block: dict[str, Any], slot: int | None) -> int:
    slot = slot if slot is not None else int(block.get("parentSlot", -1)) + 1
    events: Counter[str] = Counter()
    failed = undecodable = 0
    reasons: Counter[str] = Counter()
    for entry in block["transactions"]:
        decoded = decoder.decode(entry, slot=slot)
        if isinstance(decoded, Undecodable):
            undecodable += 1
            reasons[decoded.reason] += 1
            continue
        failed += not decoded.success
        events.update(f"{e.program_id}:{e.name}" for e in decoded.events)
    summary = {
        "slot": slot,
        "transactions": len(block["transactions"]),
        "failed": failed,
        "undecodable": undecodable,
        "undecodable_reasons": dict(reasons),
        "events": dict(sorted(events.items())),
    }
    print(json.dumps(summary, indent=2))
    return 1 if undecodable else 0
