"""Replay: transactions from files, for tests and for reprocessing history without a cluster.

Reads getTransaction replies (a JSON-RPC envelope or the bare result, or a JSON array of them), getBlock
replies (every transaction of the block, in block order; the block's slot from an explicit `slot` key,
else the request's params when the file keeps them, else parentSlot + 1), directories of such files and
`.zip` archives holding them. Batches come oldest first, each with the cursor of its last transaction.
"""

from __future__ import annotations

import base64
import zipfile
from collections.abc import AsyncIterator, Iterator, Sequence
from pathlib import Path
from typing import Any

import base58
import orjson
from solders.transaction import VersionedTransaction

from indexer.sources.base import Batch, Cursor, FetchedTransaction, SourceError

__all__ = ["ReplaySource", "read_transactions"]


def _signature(entry: dict[str, Any]) -> str:
    body = entry.get("transaction")
    if isinstance(body, dict):
        signatures = body.get("signatures") or [""]
        return str(signatures[0])
    if isinstance(body, list) and len(body) == 2:
        raw = base64.b64decode(body[0]) if body[1] == "base64" else base58.b58decode(body[0])
        return str(VersionedTransaction.from_bytes(raw).signatures[0])
    raise ValueError("no transaction in the entry")


def _from_document(document: Any, name: str) -> Iterator[FetchedTransaction]:
    if isinstance(document, list):
        for item in document:
            yield from _from_document(item, name)
        return
    if not isinstance(document, dict):
        raise SourceError(f"{name}: not a JSON object or array")
    result = document.get("result", document) if "jsonrpc" in document or "result" in document else document
    if result is None:
        return  # a null getTransaction reply: nothing to replay
    if not isinstance(result, dict):
        raise SourceError(f"{name}: the result is not an object")
    if isinstance(result.get("transactions"), list):  # a block
        slot = result.get("slot")
        params = document.get("params")
        if slot is None and isinstance(params, list) and params and isinstance(params[0], int):
            slot = params[0]
        if slot is None:
            slot = int(result.get("parentSlot", -1)) + 1
        for index, entry in enumerate(result["transactions"]):
            try:
                signature = _signature(entry)
            except (ValueError, TypeError) as exc:
                raise SourceError(f"{name}: transaction {index} of block {slot}: {exc}") from exc
            yield FetchedTransaction(
                signature, int(slot), {**entry, "slot": int(slot), "blockTime": result.get("blockTime")}, index
            )
        return
    try:
        signature = _signature(result)
    except (ValueError, TypeError) as exc:
        raise SourceError(f"{name}: {exc}") from exc
    slot = result.get("slot")
    yield FetchedTransaction(signature, int(slot) if isinstance(slot, int) else 0, result)


def _is_json_member(name: str) -> bool:
    """A JSON file in an archive, not the resource forks macOS adds (`__MACOSX/`, `._name`)."""
    return name.endswith(".json") and not name.startswith("__MACOSX/") and not name.rsplit("/", 1)[-1].startswith("._")


def read_transactions(paths: Sequence[Path]) -> list[FetchedTransaction]:
    """Every transaction in `paths` (files, directories, zips), oldest first (stable within a slot)."""
    found: list[FetchedTransaction] = []
    for path in paths:
        if path.is_dir():
            found += read_transactions(sorted(p for p in path.iterdir() if p.suffix in (".json", ".zip")))
            continue
        try:
            if path.suffix == ".zip":
                with zipfile.ZipFile(path) as archive:
                    for member in sorted(n for n in archive.namelist() if _is_json_member(n)):
                        found += _from_document(orjson.loads(archive.read(member)), f"{path}:{member}")
            else:
                found += _from_document(orjson.loads(path.read_bytes()), str(path))
        except (OSError, ValueError, orjson.JSONDecodeError, zipfile.BadZipFile) as exc:
            raise SourceError(f"{path}: unreadable: {exc}") from exc
    found.sort(key=lambda tx: tx.slot)
    return found


class ReplaySource:
    def __init__(self, paths: Sequence[Path], *, batch_size: int = 500) -> None:
        self.paths = list(paths)
        self.batch_size = batch_size

    def forget_from(self, slot: int) -> None:
        """Nothing to forget: this source ends, and a restart reads from the stored cursor."""

    async def stream(self, start: Cursor | None) -> AsyncIterator[Batch]:
        transactions = read_transactions(self.paths)
        if start is not None:  # resume after the cursor
            signatures = [tx.signature for tx in transactions]
            if start.signature in signatures:
                transactions = transactions[signatures.index(start.signature) + 1 :]
            else:
                transactions = [tx for tx in transactions if tx.slot > start.slot]
        tip = max((tx.slot for tx in transactions), default=start.slot if start else 0)
        for i in range(0, len(transactions), self.batch_size):
            chunk = tuple(transactions[i : i + self.batch_size])
            last = chunk[-1]
            yield Batch(chunk, Cursor(last.slot, last.signature), tip, True, len(transactions) - i - len(chunk))
