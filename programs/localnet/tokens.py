"""SPL Token accounts as the RPC shows them: balances with decimals, and pre/post token balances."""

from __future__ import annotations

import struct
from decimal import Decimal
from typing import Any

from solders.pubkey import Pubkey

from programs.localnet.chain import Chain

__all__ = ["TOKEN_PROGRAMS", "token_account", "token_balances", "ui_amount"]

TOKEN_PROGRAMS = {
    "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA",  # SPL Token
    "TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb",  # Token-2022
}
_ACCOUNT_LEN = 165


def token_account(chain: Chain, address: Pubkey) -> dict[str, Any] | None:
    """mint, owner, amount, decimals and program of a token account; None if it is not one."""
    account = chain.svm.get_account(address)
    if account is None or str(account.owner) not in TOKEN_PROGRAMS or len(account.data) < _ACCOUNT_LEN:
        return None
    data = bytes(account.data)
    mint = Pubkey.from_bytes(data[0:32])
    mint_account = chain.svm.get_account(mint)
    decimals = bytes(mint_account.data)[44] if mint_account is not None and len(mint_account.data) > 44 else 0
    return {
        "mint": str(mint),
        "owner": str(Pubkey.from_bytes(data[32:64])),
        "amount": struct.unpack_from("<Q", data, 64)[0],
        "decimals": decimals,
        "programId": str(account.owner),
        "state": {0: "uninitialized", 1: "initialized", 2: "frozen"}.get(data[108], "uninitialized"),
    }


def ui_amount(amount: int, decimals: int) -> dict[str, Any]:
    value = Decimal(amount) / (Decimal(10) ** decimals)
    text = format(value.normalize(), "f") if amount else "0"
    return {"amount": str(amount), "decimals": decimals, "uiAmount": float(value), "uiAmountString": text}


def token_balances(chain: Chain, keys: tuple[Pubkey, ...]) -> list[dict[str, Any]]:
    """The token balances of a transaction's token accounts, in the meta's pre/postTokenBalances shape."""
    balances = []
    for index, key in enumerate(keys):
        info = token_account(chain, key)
        if info is not None:
            balances.append({
                "accountIndex": index,
                "mint": info["mint"],
                "owner": info["owner"],
                "programId": info["programId"],
                "uiTokenAmount": ui_amount(info["amount"], info["decimals"]),
            })  # fmt: skip
    return balances
