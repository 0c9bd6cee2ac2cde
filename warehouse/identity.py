"""The one chain and program a warehouse holds (table `chain_identity`): recorded by the first index,
checked by every later one, so that a second chain's history is never mixed into the first's.

A chain is named by its genesis hash (`getGenesisHash`): the same across restarts of one ledger, different
for every new one. The composition roots (`memefans index`, `memefans demo`) call `claim` before the
pipeline writes anything; a mismatch is a `ChainMismatch` whose message is the one sentence to print.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import asyncpg

from warehouse.errors import WarehouseError

__all__ = ["ChainIdentity", "ChainMismatch", "claim"]

_BASE58_KEY = re.compile(r"[1-9A-HJ-NP-Za-km-z]{32,44}")  # a 32-byte hash or key in base58


@dataclass(frozen=True)
class ChainIdentity:
    genesis_hash: str
    program_id: str
    rpc_url: str | None = None


class ChainMismatch(WarehouseError):
    """The warehouse holds another chain or program than the one asked for."""

    def __init__(self, held: ChainIdentity, asked: ChainIdentity, start_fresh: str) -> None:
        differs = []
        if held.genesis_hash != asked.genesis_hash:
            where = f" at {asked.rpc_url}" if asked.rpc_url else ""
            differs.append(
                f"the chain with genesis hash {held.genesis_hash}, not the chain{where} "
                f"(genesis hash {asked.genesis_hash})"
            )
        if held.program_id != asked.program_id:
            differs.append(f"program {held.program_id}, not program {asked.program_id}")
        super().__init__(f"this warehouse holds {' and '.join(differs)}; {start_fresh}")
        self.held = held
        self.asked = asked


async def claim(conn: asyncpg.Connection, asked: ChainIdentity, *, start_fresh: str) -> bool:
    """Record `asked` as the warehouse's chain if none is recorded yet (True), or check that it is the one
    recorded (False); raise ChainMismatch, with `start_fresh` saying how to begin from an empty warehouse,
    when it is not. Two indexers starting at once race on the one row: the second sees the first's."""
    for what, value in (("genesis hash", asked.genesis_hash), ("program id", asked.program_id)):
        if not isinstance(value, str) or not _BASE58_KEY.fullmatch(value):
            raise WarehouseError(f"the {what} {str(value)[:80]!r} is not a base58 hash; nothing was indexed")
    try:
        return await _claim(conn, asked, start_fresh)
    except asyncpg.UndefinedTableError as exc:
        raise WarehouseError("the warehouse has no chain_identity table: run `memefans db migrate`") from exc


async def _claim(conn: asyncpg.Connection, asked: ChainIdentity, start_fresh: str) -> bool:
    async with conn.transaction():
        inserted = await conn.fetchval(
            "INSERT INTO chain_identity (id, genesis_hash, program_id, rpc_url) VALUES (1, $1, $2, $3) "
            "ON CONFLICT (id) DO NOTHING RETURNING true",
            asked.genesis_hash,
            asked.program_id,
            asked.rpc_url,
        )
        if inserted:
            return True
        row = await conn.fetchrow("SELECT genesis_hash, program_id, rpc_url FROM chain_identity WHERE id = 1")
    held = ChainIdentity(row["genesis_hash"], row["program_id"], row["rpc_url"])
    if (held.genesis_hash, held.program_id) != (asked.genesis_hash, asked.program_id):
        raise ChainMismatch(held, asked, start_fresh)
    return False
