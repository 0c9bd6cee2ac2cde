"""What the jobs read from the chain over JSON-RPC (solana-py): who funded a fan's wallet, and the vaults'
balances for reconciliation. Bounded (a few wallets a run, a few requests at once) and cached in the
warehouse (`wallet_funding_cache`), so a job never hammers the cluster.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import asyncpg
from solana.rpc.async_api import AsyncClient
from solana.rpc.commitment import Finalized
from solders.pubkey import Pubkey
from solders.signature import Signature

__all__ = ["VaultReading", "fetch_funders", "newer_signatures", "read_vaults", "rooted_slots"]


@dataclass(frozen=True, slots=True)
class VaultReading:
    """Vault balances read at finalized commitment: each as of the context slot of the reply that carried it
    (up to 100 vaults a reply; a real node may root a slot between two replies, so they can differ)."""

    slot: int  # the newest of those slots: the warehouse must have passed it before the reading is judged
    balances: dict[str, int | None]  # creator PDA -> lamports above rent exemption (None: no account)
    tokens: dict[tuple[str, str], int | None] = field(default_factory=dict)  # (creator, mint) -> vault amount
    slots: dict[tuple[str, str], int] = field(default_factory=dict)  # (creator, mint or "") -> its reply's slot

    def vaults(self) -> list[tuple[str, str, int | None, int]]:
        """Every vault as (creator, mint or "" for SOL, amount, slot), ordered by creator, then mint."""
        amounts = {(c, ""): b for c, b in self.balances.items()} | dict(self.tokens)
        return [(c, m, amount, self.slots.get((c, m), self.slot)) for (c, m), amount in sorted(amounts.items())]


async def _funder(rpc: AsyncClient, wallet: str) -> tuple[str | None, str | None, dict[str, Any]]:
    """The first transfer into `wallet`: (funder, signature, details). The oldest signature of the wallet is
    its funding in the common case; a wallet with no history gives (None, None)."""
    before = None
    oldest = None
    for _ in range(10):  # at most 10,000 signatures back
        page = (await rpc.get_signatures_for_address(Pubkey.from_string(wallet), before=before, limit=1000)).value
        if not page:
            break
        oldest = page[-1]
        if len(page) < 1000:
            break
        before = page[-1].signature
    if oldest is None:
        return None, None, {"reason": "no history"}
    tx = await rpc.get_transaction(oldest.signature, encoding="jsonParsed", max_supported_transaction_version=0)
    if tx.value is None:
        return None, str(oldest.signature), {"reason": "transaction not available"}
    result = json.loads(tx.to_json())["result"]  # the RPC's own jsonParsed shape
    for ix in result["transaction"]["message"]["instructions"]:
        info = (ix.get("parsed") or {}).get("info", {}) if isinstance(ix.get("parsed"), dict) else {}
        if ix.get("program") == "system" and info.get("destination") == wallet and "source" in info:
            return str(info["source"]), str(oldest.signature), {"lamports": info.get("lamports")}
    return None, str(oldest.signature), {"reason": "the first transaction is not a transfer to the wallet"}


async def fetch_funders(pool: asyncpg.Pool, rpc_url: str, wallets: Sequence[str], *, limit: int = 200,
                        concurrency: int = 4) -> int:  # fmt: skip
    """Look up (and cache) the funders of up to `limit` wallets not yet in the cache; returns how many."""
    async with pool.acquire() as conn:
        known = {r["wallet"] for r in await conn.fetch("SELECT wallet FROM wallet_funding_cache")}
    todo = [w for w in dict.fromkeys(wallets) if w not in known][:limit]
    if not todo:
        return 0
    slots = asyncio.Semaphore(concurrency)
    async with AsyncClient(rpc_url, timeout=30) as rpc:

        async def one(wallet: str) -> tuple[str, str | None, str | None, dict[str, Any]]:
            async with slots:
                return (wallet, *await _funder(rpc, wallet))

        found = await asyncio.gather(*(one(w) for w in todo))
    async with pool.acquire() as conn:
        await conn.executemany(
            "INSERT INTO wallet_funding_cache (wallet, funder, funding_signature, details) VALUES ($1, $2, $3, $4) "
            "ON CONFLICT (wallet) DO UPDATE SET funder = EXCLUDED.funder, "
            "funding_signature = EXCLUDED.funding_signature, details = EXCLUDED.details, fetched_at = now()",
            [(w, f, s, json.dumps(d)) for w, f, s, d in found],
        )
    return len(found)


async def read_vaults(
    rpc_url: str, creators: Sequence[str], token_vaults: Sequence[tuple[str, str]] = ()
) -> VaultReading:
    """Every creator vault's SOL balance above rent exemption and, for each (creator, mint), the amount in the
    creator's token vault (its associated token account), at finalized commitment: each as of the slot its
    reply names (a rooted slot: nothing at or below it can change)."""
    from programs.gift_pool.client import associated_token_address

    balances: dict[str, int | None] = {}
    tokens: dict[tuple[str, str], int | None] = {}
    slots: dict[tuple[str, str], int] = {}
    slot = 0
    rents: dict[int, int] = {}
    wanted: list[tuple[str, Pubkey, tuple[str, str] | None]] = [(c, Pubkey.from_string(c), None) for c in creators]
    wanted += [
        (c, associated_token_address(Pubkey.from_string(c), Pubkey.from_string(m)), (c, m)) for c, m in token_vaults
    ]
    async with AsyncClient(rpc_url, timeout=30) as rpc:
        for i in range(0, len(wanted), 100):
            chunk = wanted[i : i + 100]
            reply = await rpc.get_multiple_accounts([key for _, key, _ in chunk], Finalized)
            slot = max(slot, reply.context.slot)
            for (creator, _, token), account in zip(chunk, reply.value, strict=True):
                slots[token or (creator, "")] = reply.context.slot
                if token is not None:  # an SPL token account: the amount is the u64 after mint and owner
                    data = bytes(account.data) if account is not None else b""
                    tokens[token] = int.from_bytes(data[64:72], "little") if len(data) >= 72 else None
                    continue
                if account is None:
                    balances[creator] = None
                    continue
                size = len(bytes(account.data))
                if size not in rents:
                    rents[size] = (await rpc.get_minimum_balance_for_rent_exemption(size)).value
                balances[creator] = account.lamports - rents[size]
    return VaultReading(slot, balances, tokens, slots)


async def newer_signatures(rpc_url: str, program_id: str, until: str | None) -> list[tuple[str, int]]:
    """The program's finalized signatures newer than `until` (the indexer's cursor), with their slots."""
    found: list[tuple[str, int]] = []
    before = None
    async with AsyncClient(rpc_url, timeout=30) as rpc:
        for _ in range(100):
            page = (
                await rpc.get_signatures_for_address(
                    Pubkey.from_string(program_id),
                    before=before,
                    until=Signature.from_string(until) if until else None,
                    limit=1000,
                    commitment=Finalized,
                )
            ).value
            found += [(str(p.signature), p.slot) for p in page]
            if len(page) < 1000:
                break
            before = page[-1].signature
    return found


async def rooted_slots(rpc_url: str, start: int, end: int) -> set[int]:
    """The slots from `start` to `end` that hold a finalized block (a slot that died, or was skipped, does not)."""
    async with AsyncClient(rpc_url, commitment=Finalized, timeout=30) as rpc:  # getBlocks takes the client's
        return set((await rpc.get_blocks(start, end)).value)
