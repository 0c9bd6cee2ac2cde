"""The `jsonParsed` encoding of instructions for the programs the RPC knows: System, SPL Token and the
Associated Token Account program. Anything else stays raw (programId, accounts, data), as on a real node."""

from __future__ import annotations

import struct
from typing import Any

import base58

__all__ = ["parse_instruction"]

SYSTEM = "11111111111111111111111111111111"
TOKEN = "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA"
ATA = "ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL"


def _system(data: bytes, accounts: list[str]) -> dict[str, Any] | None:
    if len(data) < 4:
        return None
    tag = struct.unpack_from("<I", data)[0]
    if tag == 2 and len(data) >= 12 and len(accounts) >= 2:
        info = {"source": accounts[0], "destination": accounts[1], "lamports": struct.unpack_from("<Q", data, 4)[0]}
        return {"type": "transfer", "info": info}
    if tag == 0 and len(data) >= 52 and len(accounts) >= 2:
        lamports, space = struct.unpack_from("<QQ", data, 4)
        owner = base58.b58encode(data[20:52]).decode()
        info = {"source": accounts[0], "newAccount": accounts[1], "lamports": lamports, "space": space, "owner": owner}
        return {"type": "createAccount", "info": info}
    return None


def _token(data: bytes, accounts: list[str]) -> dict[str, Any] | None:
    if not data:
        return None
    tag = data[0]
    info: dict[str, Any]
    if tag == 3 and len(data) >= 9 and len(accounts) >= 3:
        amount = str(struct.unpack_from("<Q", data, 1)[0])
        info = {"source": accounts[0], "destination": accounts[1], "authority": accounts[2], "amount": amount}
        return {"type": "transfer", "info": info}
    if tag == 12 and len(data) >= 10 and len(accounts) >= 4:
        amount, decimals = struct.unpack_from("<QB", data, 1)
        info = {
            "source": accounts[0],
            "mint": accounts[1],
            "destination": accounts[2],
            "authority": accounts[3],
            "tokenAmount": {"amount": str(amount), "decimals": decimals},
        }
        return {"type": "transferChecked", "info": info}
    if tag == 7 and len(data) >= 9 and len(accounts) >= 3:
        amount = str(struct.unpack_from("<Q", data, 1)[0])
        info = {"mint": accounts[0], "account": accounts[1], "mintAuthority": accounts[2], "amount": amount}
        return {"type": "mintTo", "info": info}
    if tag == 20 and len(data) >= 34 and accounts:
        info = {
            "mint": accounts[0],
            "decimals": data[1],
            "mintAuthority": base58.b58encode(data[2:34]).decode(),
        }
        return {"type": "initializeMint2", "info": info}
    if tag == 18 and len(data) >= 33 and len(accounts) >= 2:
        info = {"account": accounts[0], "mint": accounts[1], "owner": base58.b58encode(data[1:33]).decode()}
        return {"type": "initializeAccount3", "info": info}
    return None


def _ata(data: bytes, accounts: list[str]) -> dict[str, Any] | None:
    if len(accounts) < 6 or (data and data[0] not in (0, 1)):
        return None
    kind = "createIdempotent" if data and data[0] == 1 else "create"
    keys = ("source", "account", "wallet", "mint", "systemProgram", "tokenProgram")
    return {"type": kind, "info": dict(zip(keys, accounts, strict=False))}


_PARSERS = {SYSTEM: ("system", _system), TOKEN: ("spl-token", _token), ATA: ("spl-associated-token-account", _ata)}


def parse_instruction(program_id: str, accounts: list[str], data: bytes, stack_height: int | None) -> dict[str, Any]:
    """One instruction in the jsonParsed shape."""
    known = _PARSERS.get(program_id)
    parsed = known[1](data, accounts) if known else None
    if known is None or parsed is None:
        return {
            "programId": program_id,
            "accounts": accounts,
            "data": base58.b58encode(data).decode(),
            "stackHeight": stack_height,
        }
    return {"program": known[0], "programId": program_id, "parsed": parsed, "stackHeight": stack_height}
