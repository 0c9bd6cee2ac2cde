"""Solana Actions (the Blinks spec): a gift button any Action client can render and sign.

GET returns the action's metadata; POST with {"account": <fan pubkey>} returns an unsigned `gift_sol`
transaction (base64) with a fresh blockhash from the chain, the fan as fee payer. The treasury comes from
the on-chain Config, so the transaction is the one the program expects.
"""

from __future__ import annotations

import base64
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from solana.rpc.async_api import AsyncClient
from solana.rpc.commitment import Confirmed
from solders.message import Message
from solders.pubkey import Pubkey
from solders.transaction import Transaction

from api.validation import ApiError, check_handle, check_platform, check_pubkey
from programs.gift_pool.client import PROGRAM_ID, config_pda, creator_pda, gift_sol_ix, register_creator_ix

__all__ = ["router"]

router = APIRouter()
LAMPORTS_PER_SOL = 10**9
PRESETS = ("0.05", "0.1", "0.5")
MAX_SOL = Decimal(1000)
_TREASURY_OFFSET = 8 + 32 + 32  # Config: discriminator, admin, verifier, treasury
ICON = (Path(__file__).resolve().parent.parent / "static" / "icon.png").read_bytes()


def action_headers(request: Request) -> dict[str, str]:
    chain_id = request.app.state.blockchain_id
    return {"X-Action-Version": "2.4", "X-Blockchain-Ids": chain_id}


class ActionPost(BaseModel):
    account: str


def _amount(raw: str | None) -> int:
    if raw is None:
        raise ApiError(400, "invalid_amount", "amount (in SOL) is required, e.g. ?amount=0.1")
    try:
        sol = Decimal(raw)
    except InvalidOperation:
        raise ApiError(400, "invalid_amount", f"amount {raw[:30]!r} is not a number of SOL") from None
    if not sol.is_finite() or sol <= 0 or sol > MAX_SOL:
        raise ApiError(400, "invalid_amount", f"amount must be more than 0 and at most {MAX_SOL} SOL")
    lamports = sol * LAMPORTS_PER_SOL
    if lamports != lamports.to_integral_value():
        raise ApiError(400, "invalid_amount", "amount has more than 9 decimals")
    return int(lamports)


@router.get("/actions.json", include_in_schema=False)
async def actions_json(request: Request) -> JSONResponse:
    rules = {"rules": [{"pathPattern": "/gift/**", "apiPath": "/v1/actions/gift/**"}]}
    return JSONResponse(rules, headers=action_headers(request))


@router.options("/v1/actions/gift/{platform}/{handle}", include_in_schema=False)
async def action_options(request: Request, platform: str, handle: str) -> Response:
    return Response(status_code=204, headers=action_headers(request))


@router.get("/v1/actions/icon.png", include_in_schema=False)
async def action_icon() -> Response:
    """The icon an Action client shows on the gift card (the spec wants an absolute URL to a PNG, SVG or WebP)."""
    return Response(ICON, media_type="image/png", headers={"Cache-Control": "public, max-age=86400"})


@router.get("/v1/actions/gift/{platform}/{handle}")
async def action_get(request: Request, platform: str, handle: str) -> JSONResponse:
    check_platform(platform)
    check_handle(handle)
    base = f"/v1/actions/gift/{platform}/{handle}"
    body: dict[str, Any] = {
        "type": "action",
        "icon": str(request.base_url) + "v1/actions/icon.png",
        "title": f"Gift {handle} on {platform}",
        "description": f"Send SOL to {platform}/{handle} through the MEMEFANS gift pool. "
        "Gifts to a handle that has not joined wait in escrow until it does.",
        "label": "Gift",
        "links": {
            "actions": [{"type": "transaction", "label": f"{p} SOL", "href": f"{base}?amount={p}"} for p in PRESETS]
            + [
                {
                    "type": "transaction",
                    "label": "Gift",
                    "href": f"{base}?amount={{amount}}",
                    "parameters": [{"name": "amount", "label": "Amount in SOL", "type": "number", "required": True}],
                }
            ]
        },
    }
    return JSONResponse(body, headers=action_headers(request))


@router.post("/v1/actions/gift/{platform}/{handle}")
async def action_post(request: Request, platform: str, handle: str, payload: ActionPost) -> JSONResponse:
    check_platform(platform)
    check_handle(handle)
    fan = Pubkey.from_string(check_pubkey(payload.account))
    lamports = _amount(request.query_params.get("amount"))
    rpc: AsyncClient = request.app.state.rpc
    try:
        blockhash = (await rpc.get_latest_blockhash(Confirmed)).value.blockhash
        config = (await rpc.get_account_info(config_pda(), Confirmed)).value
        creator = (await rpc.get_account_info(creator_pda(platform, handle), Confirmed)).value
    except Exception as exc:  # the chain is an external service: any failure is a 503, not a crash
        raise ApiError(503, "chain_unavailable", f"the Solana RPC did not answer: {type(exc).__name__}") from None
    if config is None or config.owner != PROGRAM_ID:
        raise ApiError(503, "program_not_initialized", "the gift pool's Config account is missing on this chain")
    treasury = Pubkey.from_bytes(bytes(config.data)[_TREASURY_OFFSET : _TREASURY_OFFSET + 32])
    instructions = [] if creator is not None else [register_creator_ix(platform, handle, fan)]  # escrow
    instructions.append(gift_sol_ix(fan, platform, handle, lamports, "", "via Solana Action", treasury))
    transaction = Transaction.new_unsigned(Message.new_with_blockhash(instructions, fan, blockhash))
    body = {
        "type": "transaction",
        "transaction": base64.b64encode(bytes(transaction)).decode(),
        "message": f"Gift {Decimal(lamports) / LAMPORTS_PER_SOL} SOL to {platform}/{handle}",
    }
    return JSONResponse(body, headers=action_headers(request))
