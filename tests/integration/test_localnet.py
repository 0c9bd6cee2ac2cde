"""The local chain through standard clients: solana-py's AsyncClient and websocket client over real sockets."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import httpx
import pytest
from solana.rpc.async_api import AsyncClient
from solana.rpc.commitment import Confirmed, Finalized, Processed
from solana.rpc.models import TxOpts
from solana.rpc.websocket_api import SolanaWsClient
from solders.keypair import Keypair
from solders.message import Message
from solders.pubkey import Pubkey
from solders.rpc.config import RpcTransactionLogsFilterMentions
from solders.rpc.responses import GetTransactionResp
from solders.system_program import TransferParams, transfer
from solders.transaction import VersionedTransaction

from programs.localnet.chain import Chain
from programs.localnet.genesis import deploy_gift_pool, dev_keys
from programs.localnet.server import Localnet, run_localnet

SLOT_MS = 50


@pytest.fixture
async def net() -> AsyncIterator[Localnet]:
    """A local chain with the gift pool deployed and initialized, as `memefans localnet` starts it."""
    chain = Chain(slot_ms=SLOT_MS, finality_depth=4)
    deploy_gift_pool(chain, dev_keys())
    async with run_localnet(chain=chain, slot_ms=SLOT_MS) as running:
        yield running


@pytest.fixture
async def client(net: Localnet) -> AsyncIterator[AsyncClient]:
    async with AsyncClient(net.rpc_url) as rpc:
        yield rpc


async def funded(client: AsyncClient, lamports: int = 5 * 10**9) -> Keypair:
    keypair = Keypair()
    signature = (await client.request_airdrop(keypair.pubkey(), lamports)).value
    statuses = (await client.get_signature_statuses([signature])).value
    assert statuses[0] is not None and statuses[0].err is None
    return keypair


async def send_transfer(client: AsyncClient, payer: Keypair, to: Pubkey, lamports: int, **opts: bool) -> str:
    blockhash = (await client.get_latest_blockhash()).value.blockhash
    message = Message.new_with_blockhash(
        [transfer(TransferParams(from_pubkey=payer.pubkey(), to_pubkey=to, lamports=lamports))],
        payer.pubkey(),
        blockhash,
    )
    response = await client.send_raw_transaction(bytes(VersionedTransaction(message, [payer])), TxOpts(**opts))
    return str(response.value)


async def raw(net: Localnet, method: str, params: list[object]) -> dict[str, object]:
    async with httpx.AsyncClient(base_url=net.rpc_url) as http:
        body = (await http.post("/", json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params})).json()
    result: dict[str, object] = body["result"]
    return result


async def wait_for_slot(client: AsyncClient, slot: int, commitment: object = Finalized) -> None:
    for _ in range(400):
        if (await client.get_slot(commitment)).value >= slot:  # type: ignore[arg-type]
            return
        await asyncio.sleep(SLOT_MS / 1000)
    raise AssertionError(f"slot {slot} never reached")


async def test_cluster_methods(client: AsyncClient, net: Localnet) -> None:
    assert (await client.get_version()).value.solana_core
    assert await client.is_connected()
    processed = (await client.get_slot(Processed)).value
    finalized = (await client.get_slot(Finalized)).value
    assert processed >= finalized
    assert (await client.get_block_height(Processed)).value == processed
    blockhash = (await client.get_latest_blockhash()).value
    valid = await raw(net, "isBlockhashValid", [str(blockhash.blockhash)])
    assert valid["value"] is True
    assert (await raw(net, "isBlockhashValid", ["11111111111111111111111111111111"]))["value"] is False
    assert (await client.get_minimum_balance_for_rent_exemption(0)).value == 890880
    assert (await client.get_first_available_block()).value == 1
    assert (await client.get_genesis_hash()).value


async def test_transfer_round_trip(client: AsyncClient) -> None:
    payer = await funded(client)
    receiver = Keypair().pubkey()
    signature = await send_transfer(client, payer, receiver, 1_234_567)

    assert (await client.get_balance(receiver, Processed)).value == 1_234_567
    accounts = (await client.get_multiple_accounts([receiver, payer.pubkey()], Processed)).value
    assert accounts[0] is not None and accounts[0].lamports == 1_234_567
    info = (await client.get_account_info(payer.pubkey(), Processed)).value
    assert info is not None and info.lamports == 5 * 10**9 - 1_234_567 - 5000

    tx = await client.get_transaction(signature_from(signature), "json", Confirmed, 0)
    assert tx.value is None or tx.value.slot > 0  # may not be confirmed yet
    slot = (await client.get_signature_statuses([signature_from(signature)])).value[0].slot  # type: ignore[union-attr]
    await wait_for_slot(client, slot)
    resp = await client.get_transaction(signature_from(signature), "json", Finalized, 0)
    assert isinstance(resp, GetTransactionResp) and resp.value is not None
    meta = resp.value.transaction.meta
    assert meta is not None and meta.fee == 5000 and meta.err is None
    assert meta.post_balances[1] - meta.pre_balances[1] == 1_234_567
    assert "Program 11111111111111111111111111111111 success" in (meta.log_messages or [])
    assert meta.compute_units_consumed == 150

    status = (await client.get_signature_statuses([signature_from(signature)])).value[0]
    assert status is not None and str(status.confirmation_status) == "TransactionConfirmationStatus.Finalized"

    history = (await client.get_signatures_for_address(receiver)).value
    assert [str(h.signature) for h in history] == [signature]
    assert history[0].block_time is not None and history[0].slot == slot

    blocks = (await client.get_blocks(slot, slot)).value
    assert blocks == [slot]
    block = (await client.get_block(slot, "json", 0)).value
    assert signature in [str(t.transaction.signatures[0]) for t in block.transactions]  # type: ignore[union-attr]


def signature_from(text: str) -> object:
    from solders.signature import Signature

    return Signature.from_string(text)


async def test_failed_transaction_is_recorded_and_preflight_refuses(client: AsyncClient) -> None:
    payer = await funded(client, 10**9)
    with pytest.raises(Exception, match="simulation failed"):
        await send_transfer(client, payer, Keypair().pubkey(), 10**12)
    signature = await send_transfer(client, payer, Keypair().pubkey(), 10**12, skip_preflight=True)
    status = (await client.get_signature_statuses([signature_from(signature)])).value[0]
    assert status is not None and status.err is not None
    await wait_for_slot(client, status.slot)
    history = (await client.get_signatures_for_address(payer.pubkey())).value
    resp = await client.get_transaction(signature_from(signature), "json", Finalized, 0)  # type: ignore[arg-type]
    meta = resp.value.transaction.meta  # type: ignore[union-attr]
    assert meta is not None and meta.err is not None and meta.fee == 5000
    assert any("insufficient lamports" in line for line in meta.log_messages or [])
    assert str(history[0].signature) == signature and history[0].err is not None  # failures are history too


async def test_signatures_pagination(client: AsyncClient, net: Localnet) -> None:
    payer = await funded(client, 10**10)
    receiver = Keypair().pubkey()
    sent = [await send_transfer(client, payer, receiver, 1_000_000 + i) for i in range(12)]
    await wait_for_slot(client, net.chain.slot)
    newest_first = list(reversed(sent))
    page1 = (await client.get_signatures_for_address(receiver, limit=5)).value
    assert [str(s.signature) for s in page1] == newest_first[:5]
    page2 = (await client.get_signatures_for_address(receiver, before=page1[-1].signature, limit=5)).value
    assert [str(s.signature) for s in page2] == newest_first[5:10]
    until = (await client.get_signatures_for_address(receiver, until=page1[2].signature)).value
    assert [str(s.signature) for s in until] == newest_first[:2]


async def test_json_rpc_errors(net: Localnet) -> None:
    async with httpx.AsyncClient(base_url=net.rpc_url) as http:
        parse = (await http.post("/", content=b"{not json")).json()
        assert parse["error"]["code"] == -32700
        unknown = (await http.post("/", json={"jsonrpc": "2.0", "id": 1, "method": "noSuchMethod"})).json()
        assert unknown["error"]["code"] == -32601
        bad = (await http.post("/", json={"jsonrpc": "2.0", "id": 2, "method": "getBalance", "params": ["xyz"]})).json()
        assert bad["error"]["code"] == -32602 and "pubkey" in bad["error"]["message"]
        batch = (
            await http.post(
                "/",
                json=[{"jsonrpc": "2.0", "id": 1, "method": "getSlot"}, {"jsonrpc": "2.0", "id": 2, "method": "x"}],
            )
        ).json()
        assert isinstance(batch[0]["result"], int) and batch[1]["error"]["code"] == -32601
        huge = await http.post("/", content=b"[" + b" " * (1 << 20) + b"]")
        assert huge.status_code == 413
        assert (await http.post("/", json={"jsonrpc": "2.0", "id": 3, "method": "getHealth"})).json()["result"] == "ok"


async def test_thousand_concurrent_requests(net: Localnet) -> None:
    """A thousand connections, each with a request in flight at once, all answered.

    Raw sockets rather than one httpx pool: httpcore matches every queued request against every pooled
    connection on each step (quadratic), which blocked this shared event loop for seconds at a time and
    let the server's keep-alive timer close connections under the client (a flaky ReadError in CI).
    """
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "getSlot"}).encode()
    head = f"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n"
    request = (head + "Connection: close\r\n\r\n").encode() + body
    opened = asyncio.Event()
    waiting = 0

    async def one() -> tuple[int, object]:
        nonlocal waiting
        reader, writer = await asyncio.open_connection("127.0.0.1", net.rpc_port)
        waiting += 1
        if waiting == 1000:
            opened.set()
        await asyncio.wait_for(opened.wait(), timeout=60)  # every connection is open before any request goes
        writer.write(request)
        response = await asyncio.wait_for(reader.read(), timeout=60)  # the server closes after answering
        writer.close()
        status_line, _, rest = response.partition(b"\r\n")
        return int(status_line.split()[1]), json.loads(rest.partition(b"\r\n\r\n")[2])["result"]

    answers = await asyncio.gather(*(one() for _ in range(1000)))
    assert all(status == 200 and isinstance(result, int) for status, result in answers)


async def test_logs_subscription_receives_each_transaction_once(client: AsyncClient, net: Localnet) -> None:
    payer = await funded(client, 10**10)
    receiver = Keypair().pubkey()
    async with SolanaWsClient(net.ws_url) as ws:
        sub = await ws.logs_subscribe(filter_=RpcTransactionLogsFilterMentions(receiver), commitment=Confirmed)
        sent = [await send_transfer(client, payer, receiver, 1_000_000 + i) for i in range(8)]
        seen: list[str] = []
        while len(seen) < len(sent):
            note = await asyncio.wait_for(ws.recv(), timeout=10)
            seen.append(str(note.result.value.signature))  # type: ignore[union-attr]
        await ws.unsubscribe(sub)
    assert sorted(seen) == sorted(sent)
    assert len(seen) == len(set(seen))


async def test_slot_and_signature_subscriptions(client: AsyncClient, net: Localnet) -> None:
    payer = await funded(client)
    async with SolanaWsClient(net.ws_url) as ws:
        sub = await ws.slot_subscribe()
        slots = [(await asyncio.wait_for(ws.recv(), timeout=5)).result.slot for _ in range(3)]  # type: ignore[union-attr]
        assert slots == sorted(slots) and len(set(slots)) == 3
        await ws.unsubscribe(sub)
    signature = await send_transfer(client, payer, Keypair().pubkey(), 1_000_000)
    async with SolanaWsClient(net.ws_url) as ws:
        await ws.signature_subscribe(signature=signature_from(signature), commitment=Finalized)  # type: ignore[arg-type]
        note = await asyncio.wait_for(ws.recv(), timeout=10)
        assert note.result.value.err is None  # type: ignore[union-attr]


async def test_raw_pubsub_errors(net: Localnet) -> None:
    import websockets

    async with websockets.connect(net.ws_url) as ws:
        await ws.send("not json")
        assert json.loads(await ws.recv())["error"]["code"] == -32700
        await ws.send(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "logsUnsubscribe", "params": [999]}))
        assert json.loads(await ws.recv())["error"]["code"] == -32602


async def test_gift_pool_runs_on_the_local_chain(client: AsyncClient, net: Localnet) -> None:
    """Genesis deploys the real program; a gift sent over RPC comes back with its event in the logs."""
    from programs.gift_pool import client as gp

    rpc = client
    fan = await funded(rpc)
    blockhash = (await rpc.get_latest_blockhash()).value.blockhash
    instructions = [
        gp.register_creator_ix("x", "Alice", fan.pubkey()),
        gp.gift_sol_ix(fan.pubkey(), "x", "Alice", 100_000_000, "post-1", "gm", dev_keys().treasury.pubkey()),
    ]
    message = Message.new_with_blockhash(instructions, fan.pubkey(), blockhash)
    signature = (await rpc.send_raw_transaction(bytes(VersionedTransaction(message, [fan])))).value
    await wait_for_slot(rpc, net.chain.slot)
    tx = (await rpc.get_transaction(signature, "json", Finalized, 0)).value
    assert tx is not None
    logs = tx.transaction.meta.log_messages or []  # type: ignore[union-attr]
    assert f"Program {gp.PROGRAM_ID} success" in logs
    assert sum(line.startswith("Program data: ") for line in logs) == 2  # CreatorRegistered, GiftSent
    inner = tx.transaction.meta.inner_instructions or []  # type: ignore[union-attr]
    assert inner and all(i.stack_height == 2 for group in inner for i in group.instructions)
    history = (await rpc.get_signatures_for_address(gp.PROGRAM_ID)).value
    assert str(history[0].signature) == str(signature)
    assert len(history) == 2  # initialize at genesis, then the gift


async def test_get_program_accounts_with_filters(client: AsyncClient, net: Localnet) -> None:
    from solana.rpc.models import MemcmpOpts

    from programs.gift_pool import client as gp

    rpc = client
    payer = await funded(rpc)
    blockhash = (await rpc.get_latest_blockhash()).value.blockhash
    ixs = [gp.register_creator_ix(p, h, payer.pubkey()) for p, h in (("x", "a"), ("x", "b"), ("twitch", "c"))]
    await rpc.send_raw_transaction(
        bytes(VersionedTransaction(Message.new_with_blockhash(ixs, payer.pubkey(), blockhash), [payer]))
    )
    everything = (await rpc.get_program_accounts(gp.PROGRAM_ID, Processed)).value
    assert {str(a.pubkey) for a in everything} == {
        str(gp.config_pda()),
        *(str(gp.creator_pda(p, h)) for p, h in (("x", "a"), ("x", "b"), ("twitch", "c"))),
    }
    config_size = len(bytes(net.chain.svm.get_account(gp.config_pda()).data))  # type: ignore[union-attr]
    only_config = (await rpc.get_program_accounts(gp.PROGRAM_ID, Processed, filters=[config_size])).value
    assert [str(a.pubkey) for a in only_config] == [str(gp.config_pda())]
    key = gp.handle_key("x", "b")
    by_key = (
        await rpc.get_program_accounts(gp.PROGRAM_ID, Processed, filters=[MemcmpOpts(offset=8, bytes=str(Pubkey(key)))])
    ).value
    assert [str(a.pubkey) for a in by_key] == [str(gp.creator_pda("x", "b"))]


async def test_account_and_program_subscriptions(client: AsyncClient, net: Localnet) -> None:
    from programs.gift_pool import client as gp

    rpc = client
    fan = await funded(rpc)
    receiver = Keypair().pubkey()
    async with SolanaWsClient(net.ws_url) as ws:
        account_sub = await ws.account_subscribe(pubkey=receiver, commitment=Processed)
        program_sub = await ws.program_subscribe(program_id=gp.PROGRAM_ID, commitment=Processed)
        await send_transfer(rpc, fan, receiver, 2_000_000)
        note = await asyncio.wait_for(ws.recv(), timeout=5)
        assert note.result.value.lamports == 2_000_000  # type: ignore[union-attr]
        blockhash = (await rpc.get_latest_blockhash()).value.blockhash
        message = Message.new_with_blockhash(
            [gp.register_creator_ix("x", "subbed", fan.pubkey())], fan.pubkey(), blockhash
        )
        await rpc.send_raw_transaction(bytes(VersionedTransaction(message, [fan])))
        seen = set()
        while str(gp.creator_pda("x", "subbed")) not in seen:
            program_note = await asyncio.wait_for(ws.recv(), timeout=5)
            seen.add(str(program_note.result.value.pubkey))  # type: ignore[union-attr]
        assert seen <= {str(gp.creator_pda("x", "subbed")), str(gp.config_pda())}
        await ws.unsubscribe(account_sub)
        await ws.unsubscribe(program_sub)


async def test_token_methods_and_token_balances(client: AsyncClient, net: Localnet) -> None:
    from solana.rpc.models import TokenAccountOpts
    from solders.system_program import CreateAccountParams, create_account
    from spl.token.instructions import (
        TOKEN_PROGRAM_ID,
        create_idempotent_associated_token_account,
        get_associated_token_address,
        initialize_mint2,
        mint_to,
    )
    from spl.token.instructions import models as token_models

    payer = await funded(client)
    mint = Keypair()
    owner = Keypair().pubkey()
    rent = (await client.get_minimum_balance_for_rent_exemption(82)).value
    ata = get_associated_token_address(owner, mint.pubkey())
    instructions = [
        create_account(CreateAccountParams(from_pubkey=payer.pubkey(), to_pubkey=mint.pubkey(), lamports=rent,
                                           space=82, owner=TOKEN_PROGRAM_ID)),
        initialize_mint2(token_models.InitializeMint2Params(decimals=6, program_id=TOKEN_PROGRAM_ID,
                                                            mint=mint.pubkey(), mint_authority=payer.pubkey())),
        create_idempotent_associated_token_account(payer.pubkey(), owner, mint.pubkey()),
        mint_to(token_models.MintToParams(program_id=TOKEN_PROGRAM_ID, mint=mint.pubkey(), dest=ata,
                                          mint_authority=payer.pubkey(), amount=1_234_500)),
    ]  # fmt: skip
    blockhash = (await client.get_latest_blockhash()).value.blockhash
    message = Message.new_with_blockhash(instructions, payer.pubkey(), blockhash)
    signature = (await client.send_raw_transaction(bytes(VersionedTransaction(message, [payer, mint])))).value

    balance = (await client.get_token_account_balance(ata, Processed)).value
    assert (balance.amount, balance.decimals, balance.ui_amount_string) == ("1234500", 6, "1.2345")
    by_mint = (await client.get_token_accounts_by_owner(owner, TokenAccountOpts(mint=mint.pubkey()), Processed)).value
    assert [str(a.pubkey) for a in by_mint] == [str(ata)]
    parsed = (
        await client.get_token_accounts_by_owner_json_parsed(
            owner, TokenAccountOpts(program_id=TOKEN_PROGRAM_ID), Processed
        )
    ).value
    assert parsed[0].account.data.parsed["info"]["tokenAmount"]["amount"] == "1234500"

    await wait_for_slot(client, net.chain.slot)
    tx = (await client.get_transaction(signature, "json", Finalized, 0)).value
    meta = tx.transaction.meta  # type: ignore[union-attr]
    post = [(b.mint, b.owner, b.ui_token_amount.amount) for b in meta.post_token_balances or []]  # type: ignore[union-attr]
    assert post == [(mint.pubkey(), owner, "1234500")]
    assert meta.pre_token_balances == []  # type: ignore[union-attr]


async def test_fee_and_simulation_round_trips(client: AsyncClient) -> None:
    payer = await funded(client)
    blockhash = (await client.get_latest_blockhash()).value.blockhash
    ix = transfer(TransferParams(from_pubkey=payer.pubkey(), to_pubkey=Keypair().pubkey(), lamports=3_000_000))
    message = Message.new_with_blockhash([ix], payer.pubkey(), blockhash)
    assert (await client.get_fee_for_message(message)).value == 5000
    simulated = (await client.simulate_transaction(VersionedTransaction(message, [payer]))).value
    assert simulated.err is None and simulated.units_consumed == 150
    assert simulated.logs == ["Program 11111111111111111111111111111111 invoke [1]",
                              "Program 11111111111111111111111111111111 success"]  # fmt: skip
    too_much = transfer(TransferParams(from_pubkey=payer.pubkey(), to_pubkey=Keypair().pubkey(), lamports=10**15))
    failing = Message.new_with_blockhash([too_much], payer.pubkey(), blockhash)
    assert (await client.simulate_transaction(VersionedTransaction(failing, [payer]))).value.err is not None
    assert (await client.get_balance(payer.pubkey(), Processed)).value == 5 * 10**9  # simulation changed nothing


async def test_json_parsed_transaction(client: AsyncClient, net: Localnet) -> None:
    payer = await funded(client)
    receiver = Keypair().pubkey()
    signature = await send_transfer(client, payer, receiver, 4_000_000)
    await wait_for_slot(client, net.chain.slot)
    tx = (await client.get_transaction(signature_from(signature), "jsonParsed", Finalized, 0)).value  # type: ignore[arg-type]
    assert tx is not None
    message = tx.transaction.transaction.message  # type: ignore[union-attr]
    keys = message.account_keys
    assert (keys[0].signer, keys[0].writable, keys[1].signer, keys[1].writable, keys[2].writable) == (
        True, True, False, True, False,
    )  # fmt: skip
    parsed = message.instructions[0]
    assert parsed.program == "system"
    assert parsed.parsed == {
        "type": "transfer",
        "info": {"source": str(payer.pubkey()), "destination": str(receiver), "lamports": 4_000_000},
    }


async def test_base58_send_and_base64_get(client: AsyncClient, net: Localnet) -> None:
    import base64

    import base58

    payer = await funded(client)
    blockhash = (await client.get_latest_blockhash()).value.blockhash
    ix = transfer(TransferParams(from_pubkey=payer.pubkey(), to_pubkey=Keypair().pubkey(), lamports=1_500_000))
    tx = VersionedTransaction(Message.new_with_blockhash([ix], payer.pubkey(), blockhash), [payer])
    signature = await raw(net, "sendTransaction", [base58.b58encode(bytes(tx)).decode()])  # base58 is the default
    assert signature == str(tx.signatures[0])  # type: ignore[comparison-overlap]
    got = await raw(net, "getTransaction", [signature, {"encoding": "base64", "commitment": "processed"}])
    data, encoding = got["transaction"]  # type: ignore[misc]
    assert encoding == "base64"
    assert VersionedTransaction.from_bytes(base64.b64decode(data)) == tx
    parsed = await client.get_transaction(signature_from(signature), "base64", Processed, 0)  # type: ignore[arg-type]
    assert parsed.value is not None and parsed.value.slot == got["slot"]
