"""Bad input through the whole pipeline: each kind becomes a dead letter with its reason and payload, the
rest of the batch is stored, and nothing stops the indexer."""

from __future__ import annotations

import base64
import copy
import json
from pathlib import Path
from typing import Any

import asyncpg
from indexer_harness import local_chain, rpc_call
from solders.hash import Hash
from solders.keypair import Keypair
from solders.message import Message
from solders.transaction import VersionedTransaction

from indexer.decode import Decoder, load_idl
from indexer.pipeline import Pipeline
from indexer.projection import Projector
from indexer.settings import DEFAULT_IDL
from indexer.sources.replay import ReplaySource
from programs.gift_pool import client as gp
from programs.localnet.genesis import dev_keys
from warehouse.sink import open_sink


def _corrupt_event(transaction: dict[str, Any]) -> dict[str, Any]:
    """The same transaction with its event cut short (as a buggy node or a bit flip would leave it)."""
    bad = copy.deepcopy(transaction)
    logs = bad["meta"]["logMessages"]
    at = next(i for i, line in enumerate(logs) if line.startswith("Program data: "))
    payload = base64.b64decode(logs[at].removeprefix("Program data: "))
    logs[at] = "Program data: " + base64.b64encode(payload[:20]).decode()
    return bad


async def test_bad_input_becomes_dead_letters_and_the_rest_is_stored(
    tmp_path: Path, db_url: str, db_pool: asyncpg.Pool
) -> None:
    async with local_chain(slot_ms=40) as net:
        chain = net.chain
        treasury = dev_keys().treasury.pubkey()
        signatures = []
        for n, amount in enumerate((111_000_000, 222_000_000)):
            fan = Keypair()
            chain.airdrop(fan.pubkey(), 10**9)
            ixs = [gp.register_creator_ix("x", "Alice", fan.pubkey())] if n == 0 else []  # the handle's escrow
            ixs.append(gp.gift_sol_ix(fan.pubkey(), "x", "Alice", amount, "", "", treasury))
            message = Message.new_with_blockhash(ixs, fan.pubkey(), Hash.from_string(chain.latest_blockhash))
            sent = chain.send(VersionedTransaction(message, [fan]))
            assert sent.err is None, sent.logs
            signatures.append(sent.signature)
        options = {"encoding": "json", "maxSupportedTransactionVersion": 0, "commitment": "confirmed"}
        good, other = [await rpc_call(net.rpc_url, "getTransaction", [s, options]) for s in signatures]
    unreadable = copy.deepcopy(other)
    unreadable["transaction"]["signatures"] = ["5" * 88]
    unreadable["transaction"]["message"]["instructions"][0]["programIdIndex"] = 99  # no such account
    files = []
    for name, document in (("good", good), ("corrupt", _corrupt_event(other)), ("unreadable", unreadable)):
        files.append(tmp_path / f"{name}.json")
        files[-1].write_text(json.dumps({"jsonrpc": "2.0", "id": 1, "result": document}))

    sink = await open_sink(db_url)
    try:
        pipeline = Pipeline(
            source=ReplaySource(files),
            decoder=Decoder([load_idl(DEFAULT_IDL)]),
            projector=Projector(str(gp.PROGRAM_ID)),
            sink=sink,
            cursor_name="replay",
        )
        stats = await pipeline.run()
    finally:
        await sink.close()

    assert stats.transactions == 3 and stats.dead_letters == 2
    async with db_pool.acquire() as conn:
        letters = {
            r["signature"]: (r["stage"], r["reason"], r["payload"] is not None)
            for r in await conn.fetch("SELECT signature, stage, reason, payload FROM dead_letters")
        }
        stored = {r["signature"] for r in await conn.fetch("SELECT signature FROM transactions")}
        gifts = {r["signature"]: int(r["amount"]) for r in await conn.fetch("SELECT signature, amount FROM gifts")}
    good_sig, corrupt_sig = signatures
    assert gifts == {good_sig: 111_000_000}  # the corrupt event yields no fact
    assert stored == {good_sig, corrupt_sig}  # the transaction itself is kept
    stage, reason, kept = letters[corrupt_sig]
    assert stage == "partial" and "GiftSent" in reason and "shorter than the IDL says" in reason and kept
    stage, reason, kept = letters["5" * 88]
    assert stage == "decode" and "account" in reason and kept
    assert good_sig not in letters
