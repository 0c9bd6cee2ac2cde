"""The simulator against the real local chain: deterministic per seed, every incident labelled, and a
logsSubscribe stream that sees every program transaction of the simulation exactly once."""

from __future__ import annotations

import argparse
import asyncio
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from solana.rpc.async_api import AsyncClient
from solana.rpc.commitment import Confirmed
from solana.rpc.websocket_api import SolanaWsClient
from solders.rpc.config import RpcTransactionLogsFilterMentions
from solders.signature import Signature

from programs.gift_pool.client import PROGRAM_ID
from programs.localnet.chain import Chain
from programs.localnet.genesis import deploy_gift_pool, dev_keys
from programs.localnet.server import run_localnet
from programs.localnet.simulate import INCIDENTS, Simulator, _run


def args(seed: int, incidents: bool = True) -> argparse.Namespace:
    return argparse.Namespace(creators=9, fans=12, duration=2.0, tps=20.0, seed=seed, no_incidents=not incidents)


async def _until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:  # noqa: ASYNC110 (the condition is the chain's state)
        await asyncio.sleep(0.02)


async def _history(rpc: AsyncClient) -> list[str]:
    """The program's confirmed signatures, newest first."""
    history: list[str] = []
    before = None
    while True:
        page = (await rpc.get_signatures_for_address(PROGRAM_ID, before=before, commitment=Confirmed)).value
        if not page:
            return history
        history += [str(p.signature) for p in page]
        before = Signature.from_string(history[-1])


async def simulate(seed: int, incidents: bool = True) -> tuple[dict[str, Any], list[str], list[str]]:
    chain = Chain(slot_ms=40, finality_depth=4)
    deploy_gift_pool(chain, dev_keys())
    async with run_localnet(chain=chain, slot_ms=40) as net, AsyncClient(net.rpc_url) as rpc:
        streamed: list[str] = []
        async with SolanaWsClient(net.ws_url) as ws:
            await ws.logs_subscribe(filter_=RpcTransactionLogsFilterMentions(PROGRAM_ID), commitment=Confirmed)

            async def listen() -> None:
                while True:
                    note = await ws.recv()
                    streamed.append(str(note.result.value.signature))  # type: ignore[union-attr]

            listener = asyncio.create_task(listen())
            truth = await _run(Simulator(rpc, random.Random(seed)), args(seed, incidents))
            sent_by = net.chain.slot
            await _until(lambda: net.chain.confirmed_slot > sent_by)  # everything sent is confirmed
            history = await _history(rpc)
            # what is confirmed is notified within a slot or two, even on a loaded machine
            await _until(lambda: not set(history) - set(streamed) - {history[-1]})
            await asyncio.sleep(0.1)  # a duplicate notification, if any, would arrive now
            listener.cancel()
    return truth, streamed, history


async def test_simulation_is_deterministic_and_streamed_exactly_once(tmp_path: Path) -> None:
    truth, streamed, history = await simulate(seed=5)
    again, _, _ = await simulate(seed=5)

    def totals(t: dict[str, Any]) -> list[tuple[Any, ...]]:
        return [
            (c["handle"], c["gifted"], c["fees"], c["withdrawn"], c["balance"], c["gift_count"]) for c in t["creators"]
        ]

    assert totals(truth) == totals(again)
    assert [(i["kind"], len(i["signatures"])) for i in truth["incidents"]] == [
        (i["kind"], len(i["signatures"])) for i in again["incidents"]
    ]
    assert [i["kind"] for i in truth["incidents"]] == list(INCIDENTS)
    assert sum(c["gift_count"] for c in truth["creators"]) > 40
    token_gifts = [t for c in truth["creators"] for t in c["tokens"].values()]
    assert sum(t["gift_count"] for t in token_gifts) >= 1  # the meme token is gifted too
    assert all(t["balance"] == t["gifted"] - t["fees"] - t["withdrawn"] for t in token_gifts)

    # every program transaction streamed exactly once (the genesis initialize may precede the subscription)
    assert len(streamed) == len(set(streamed))
    assert set(streamed) <= set(history)
    assert set(history) - set(streamed) <= {history[-1]}  # at most the genesis initialize, if it was confirmed first
    incident_sigs = {s for i in truth["incidents"] for s in i["signatures"]}
    program_incident_sigs = incident_sigs & set(history)
    assert program_incident_sigs <= set(streamed)


async def test_clean_simulation_has_no_incidents() -> None:
    truth, _, _ = await simulate(seed=9, incidents=False)
    assert truth["incidents"] == []
    assert truth["transactions"]["failed"] == 0
    for creator in truth["creators"]:
        assert creator["balance"] == creator["gifted"] - creator["fees"] - creator["withdrawn"]
