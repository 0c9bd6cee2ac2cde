"""Solana Actions against the real local chain: the POSTed transaction, signed by the fan, is a real gift."""

from __future__ import annotations

import asyncio
import base64
import contextlib
from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest
from indexer_harness import settings_for
from solana.rpc.async_api import AsyncClient
from solana.rpc.commitment import Confirmed
from solders.keypair import Keypair
from solders.transaction import Transaction

from api.app import create_app
from api.settings import ApiSettings
from indexer.cli import run as run_indexer
from programs.gift_pool import client as gp
from programs.localnet.chain import Chain
from programs.localnet.genesis import DEFAULT_FEE_BPS, deploy_gift_pool, dev_keys
from programs.localnet.server import Localnet, run_localnet


@pytest.fixture
async def chain_and_api(db_url: str) -> AsyncIterator[tuple[Localnet, httpx.AsyncClient]]:
    chain = Chain(slot_ms=50, finality_depth=4)
    deploy_gift_pool(chain, dev_keys())
    async with run_localnet(chain=chain, slot_ms=50) as net:
        app = create_app(ApiSettings(rpc_url=net.rpc_url), database_url=db_url)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://api") as http:
                yield net, http


async def test_action_metadata_and_headers(chain_and_api: tuple[Localnet, httpx.AsyncClient]) -> None:
    net, http = chain_and_api
    rules = await http.get("/actions.json")
    assert rules.json() == {"rules": [{"pathPattern": "/gift/**", "apiPath": "/v1/actions/gift/**"}]}
    meta = await http.get("/v1/actions/gift/x/Alice", headers={"Origin": "https://dial.to"})
    assert meta.status_code == 200
    assert meta.headers["access-control-allow-origin"] == "*"
    assert meta.headers["x-action-version"] == "2.4"
    genesis = net.chain.slots[min(net.chain.slots)].blockhash
    assert meta.headers["x-blockchain-ids"] == "solana:" + genesis[:32]
    body = meta.json()
    assert body["type"] == "action" and body["title"] == "Gift Alice on x"
    hrefs = [a["href"] for a in body["links"]["actions"]]
    assert hrefs[-1] == "/v1/actions/gift/x/Alice?amount={amount}"
    preflight = await http.options(
        "/v1/actions/gift/x/Alice", headers={"Origin": "https://dial.to", "Access-Control-Request-Method": "POST"}
    )
    assert preflight.status_code == 204 and preflight.headers["access-control-allow-origin"] == "*"
    icon = await http.get(body["icon"], headers={"Origin": "https://dial.to"})  # an absolute URL a client can load
    assert body["icon"].startswith("http://api/")
    assert icon.status_code == 200 and icon.headers["content-type"] == "image/png"
    assert icon.content.startswith(b"\x89PNG\r\n\x1a\n") and icon.headers["access-control-allow-origin"] == "*"


async def test_posted_transaction_is_a_real_gift(
    chain_and_api: tuple[Localnet, httpx.AsyncClient], db_url: str, db_pool: asyncpg.Pool
) -> None:
    net, http = chain_and_api
    fan = Keypair()
    indexer = asyncio.create_task(run_indexer(settings_for(net), database_url=db_url))
    async with AsyncClient(net.rpc_url) as rpc:
        await rpc.request_airdrop(fan.pubkey(), 2 * 10**9)
        response = await http.post("/v1/actions/gift/x/Alice?amount=0.25", json={"account": str(fan.pubkey())})
        assert response.status_code == 200, response.text
        assert response.json()["message"] == "Gift 0.25 SOL to x/Alice"
        unsigned = Transaction.from_bytes(base64.b64decode(response.json()["transaction"]))
        assert unsigned.message.account_keys[0] == fan.pubkey()  # the fan pays the fee
        signed = Transaction([fan], unsigned.message, unsigned.message.recent_blockhash)
        signature = (await rpc.send_raw_transaction(bytes(signed))).value
        status = (await rpc.get_signature_statuses([signature])).value[0]
        assert status is not None and status.err is None
        vault = (await rpc.get_account_info(gp.creator_pda("x", "Alice"), Confirmed)).value
    fee = 250_000_000 * DEFAULT_FEE_BPS // 10_000
    executed = net.chain.get(str(signature))
    assert executed is not None
    assert sum(line.startswith("Program data: ") for line in executed.logs) == 2  # registered, then gifted
    rent = net.chain.svm.minimum_balance_for_rent_exemption(len(bytes(vault.data)))  # type: ignore[union-attr]
    assert vault is not None and vault.lamports - rent == 250_000_000 - fee

    # the indexer picks it up: a gift in the warehouse, and in the API's answer for the creator
    try:
        async with db_pool.acquire() as conn:
            for _ in range(200):
                row = await conn.fetchrow("SELECT fan, amount, fee FROM gifts WHERE signature = $1", str(signature))
                if row is not None:
                    break
                await asyncio.sleep(0.05)
        assert row is not None and (row["fan"], row["amount"], row["fee"]) == (str(fan.pubkey()), 250_000_000, fee)
        creator = (await http.get("/v1/creators/x/Alice")).json()
        assert (creator["gift_count"], creator["totals"]["gifted"]) == (1, "250000000")
    finally:
        indexer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await indexer


@pytest.mark.parametrize(
    ("query", "account", "code"),
    [
        ("amount=abc", None, "invalid_amount"),
        ("amount=0", None, "invalid_amount"),
        ("amount=0.0000000001", None, "invalid_amount"),
        ("", None, "invalid_amount"),
        ("amount=1", "not-a-key", "invalid_pubkey"),
        ("amount=1000.000000001", None, "invalid_amount"),
        ("amount=-1", None, "invalid_amount"),
        ("amount=NaN", None, "invalid_amount"),
    ],
)
async def test_bad_action_input(
    chain_and_api: tuple[Localnet, httpx.AsyncClient], query: str, account: str | None, code: str
) -> None:
    _, http = chain_and_api
    payload = {"account": account or str(Keypair().pubkey())}
    response = await http.post(f"/v1/actions/gift/x/Alice?{query}", json=payload)
    assert response.status_code == 400
    assert response.json()["error"] == code


FAN = str(Keypair().pubkey()).encode()


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "code"),
    [
        ("POST", "/v1/actions/gift/x/Alice?amount=1", None, 400, "invalid_request"),
        ("POST", "/v1/actions/gift/x/Alice?amount=1", b"not json", 400, "invalid_request"),
        ("POST", "/v1/actions/gift/x/Alice?amount=1", b'{"wallet": "x"}', 400, "invalid_request"),
        ("GET", "/v1/actions/gift/Not%20A%20Platform/Alice", None, 400, "invalid_platform"),
        ("GET", "/v1/actions/gift/x/" + "a" * 80, None, 400, "invalid_handle"),
        ("POST", "/v1/actions/gift/x/bad%20handle?amount=1", b'{"account": "' + FAN + b'"}', 400, "invalid_handle"),
        ("DELETE", "/v1/actions/gift/x/Alice", None, 405, "method_not_allowed"),
    ],
)
async def test_bad_action_requests(
    chain_and_api: tuple[Localnet, httpx.AsyncClient],
    method: str,
    path: str,
    body: bytes | None,
    status: int,
    code: str,
) -> None:
    _, http = chain_and_api
    headers = {"Content-Type": "application/json"} if body is not None else {}
    response = await http.request(method, path, content=body, headers=headers)
    assert response.status_code == status, response.text
    assert response.json()["error"] == code and response.json()["message"]
