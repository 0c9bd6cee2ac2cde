"""Each fault switch of the local chain, set through its admin endpoint, does what it says."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator

import httpx
import pytest
import websockets
from solders.keypair import Keypair

from programs.localnet.server import Localnet, run_localnet

SLOT = {"jsonrpc": "2.0", "id": 1, "method": "getSlot"}


@pytest.fixture
async def net() -> AsyncIterator[Localnet]:
    async with run_localnet(slot_ms=50, finality_depth=4) as running:
        yield running


async def set_faults(http: httpx.AsyncClient, **faults: float) -> dict[str, object]:
    response = await http.post("/admin/faults", json=faults)
    assert response.status_code == 200, response.text
    result: dict[str, object] = response.json()
    return result


async def test_rate_limit_fraction_and_retry_after(net: Localnet) -> None:
    async with httpx.AsyncClient(base_url=net.rpc_url) as http:
        await set_faults(http, rate_limit_fraction=0.5, retry_after_s=3, seed=11)
        statuses = [(await http.post("/", json=SLOT)).status_code for _ in range(200)]
        limited = await http.post("/", json=SLOT)
        while limited.status_code != 429:
            limited = await http.post("/", json=SLOT)
        assert limited.headers["retry-after"] == "3"
        await set_faults(http, rate_limit_fraction=0)
        assert all([(await http.post("/", json=SLOT)).status_code == 200 for _ in range(20)])
    assert 60 <= statuses.count(429) <= 140  # about half
    assert set(statuses) == {200, 429}


async def test_added_latency(net: Localnet) -> None:
    async with httpx.AsyncClient(base_url=net.rpc_url) as http:
        await set_faults(http, latency_ms=300)
        started = time.perf_counter()
        await http.post("/", json=SLOT)
        slow = time.perf_counter() - started
        await set_faults(http, latency_ms=0)
        started = time.perf_counter()
        await http.post("/", json=SLOT)
        fast = time.perf_counter() - started
    assert slow >= 0.3 > fast


async def _logs_for_airdrop(net: Localnet, http: httpx.AsyncClient, expect: int, timeout: float) -> list[str]:
    async with websockets.connect(net.ws_url) as ws:
        await ws.send(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "logsSubscribe",
                                  "params": ["all", {"commitment": "processed"}]}))  # fmt: skip
        await ws.recv()
        target = str(Keypair().pubkey())
        body = {"jsonrpc": "2.0", "id": 2, "method": "requestAirdrop", "params": [target, 10**9]}
        signature = (await http.post("/", json=body)).json()["result"]
        seen: list[str] = []
        deadline = time.monotonic() + timeout
        while len(seen) < expect and time.monotonic() < deadline:
            try:
                note = json.loads(await asyncio.wait_for(ws.recv(), timeout=max(0.01, deadline - time.monotonic())))
            except TimeoutError:
                break
            seen.append(note["params"]["result"]["value"]["signature"])
    assert set(seen) == {signature}
    return seen


async def test_duplicated_and_delayed_notifications(net: Localnet) -> None:
    async with httpx.AsyncClient(base_url=net.rpc_url) as http:
        await set_faults(http, duplicate_fraction=1.0)
        assert len(await _logs_for_airdrop(net, http, expect=3, timeout=1.0)) == 2
        await set_faults(http, duplicate_fraction=0, notification_delay_ms=400)
        started = time.monotonic()
        assert len(await _logs_for_airdrop(net, http, expect=1, timeout=3.0)) == 1
        assert time.monotonic() - started >= 0.4


async def test_websocket_drops(net: Localnet) -> None:
    async with httpx.AsyncClient(base_url=net.rpc_url) as http:
        await set_faults(http, ws_drop_every_s=0.3)
        async with websockets.connect(net.ws_url) as ws:
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), timeout=3)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1012


async def test_admin_endpoint_refuses_bad_faults(net: Localnet) -> None:
    async with httpx.AsyncClient(base_url=net.rpc_url) as http:
        unknown = await http.post("/admin/faults", json={"explode": 1})
        assert unknown.status_code == 400 and "unknown fault 'explode'" in unknown.json()["error"]
        fraction = await http.post("/admin/faults", json={"rate_limit_fraction": 2})
        assert fraction.status_code == 400
        current = (await http.get("/admin/faults")).json()
        assert current["rate_limit_fraction"] == 0.0


async def test_fork_rolls_back_a_dead_slot() -> None:
    from solders.hash import Hash
    from solders.message import Message
    from solders.system_program import TransferParams, transfer
    from solders.transaction import VersionedTransaction

    from programs.localnet.chain import Chain

    chain = Chain(slot_ms=60_000, finality_depth=1000)  # slots advance only when the test says so
    async with run_localnet(chain=chain, slot_ms=60_000) as net, httpx.AsyncClient(base_url=net.rpc_url) as http:

        async def call(method: str, params: list[object]) -> dict[str, object]:
            body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
            reply: dict[str, object] = (await http.post("/", json=body)).json()
            return reply

        payer = Keypair()
        chain.airdrop(payer.pubkey(), 10**9)
        kept_to, lost_to = Keypair().pubkey(), Keypair().pubkey()

        def send(to: object, lamports: int) -> str:
            ix = transfer(TransferParams(from_pubkey=payer.pubkey(), to_pubkey=to, lamports=lamports))  # type: ignore[arg-type]
            msg = Message.new_with_blockhash([ix], payer.pubkey(), Hash.from_string(chain.latest_blockhash))
            return chain.send(VersionedTransaction(msg, [payer])).signature

        kept = send(kept_to, 3_000_000)
        chain.advance()
        lost = send(lost_to, 5_000_000)
        dead_slot = chain.slot
        chain.advance()

        fork = (await http.post("/admin/fork", json={})).json()
        assert fork == {"slot": dead_slot, "rolled_back": [lost]}
        assert chain.get(lost) is None
        assert (await call("getTransaction", [lost, {"commitment": "processed"}]))["result"] is None
        assert (await call("getSignatureStatuses", [[lost, kept]]))["result"]["value"][0] is None  # type: ignore[index]
        assert (await call("getBalance", [str(lost_to)]))["result"]["value"] == 0  # type: ignore[index]
        assert (await call("getBalance", [str(kept_to)]))["result"]["value"] == 3_000_000  # type: ignore[index]
        assert (await call("getBalance", [str(payer.pubkey())]))["result"]["value"] == 10**9 - 3_000_000 - 5000  # type: ignore[index]
        assert (await call("getBlock", [dead_slot]))["error"]["code"] == -32007  # type: ignore[index]
        again = (await http.post("/admin/fork", json={"slot": dead_slot})).json()
        assert "cannot die" in again["error"]
        assert chain.get(send(lost_to, 1_000_000)) is not None  # the chain goes on
