"""Account reads at `finalized` commitment on the local chain answer with the state at the slot their
context names (a replica replaying the log up to the finalized slot), not with the newest state: what a
reconciliation reading vaults at a finalized slot relies on."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from solana.rpc.async_api import AsyncClient
from solana.rpc.commitment import Finalized, Processed
from solders.keypair import Keypair
from solders.message import Message
from solders.system_program import TransferParams, transfer
from solders.transaction import VersionedTransaction

from programs.localnet.chain import Chain
from programs.localnet.finalized import FinalizedState
from programs.localnet.genesis import deploy_gift_pool, dev_keys
from programs.localnet.server import Localnet, run_localnet

SLOT_MS = 50
DEPTH = 8


@pytest.fixture
async def net() -> AsyncIterator[Localnet]:
    chain = Chain(slot_ms=SLOT_MS, finality_depth=DEPTH)
    deploy_gift_pool(chain, dev_keys())
    async with run_localnet(chain=chain, slot_ms=SLOT_MS) as running:
        yield running


async def test_a_finalized_read_is_the_state_at_its_context_slot(net: Localnet) -> None:
    payer = Keypair()
    receiver = Keypair().pubkey()
    async with AsyncClient(net.rpc_url) as rpc:
        await rpc.request_airdrop(payer.pubkey(), 10**9)
        amounts = []
        for lamports in (1_000_000, 20_000_000, 300_000_000):  # three transfers, each in a slot of its own
            blockhash = (await rpc.get_latest_blockhash()).value.blockhash
            message = Message.new_with_blockhash(
                [transfer(TransferParams(from_pubkey=payer.pubkey(), to_pubkey=receiver, lamports=lamports))],
                payer.pubkey(),
                blockhash,
            )
            signature = (await rpc.send_raw_transaction(bytes(VersionedTransaction(message, [payer])))).value
            status = (await rpc.get_signature_statuses([signature])).value[0]
            assert status is not None
            amounts.append((status.slot, lamports))
            await asyncio.sleep(SLOT_MS * 2 / 1000)
        newest = (await rpc.get_balance(receiver, Processed)).value
        assert newest == 321_000_000
        seen = set()
        for _ in range(200):  # while the transfers finalize one by one, every finalized read is consistent
            reply = await rpc.get_multiple_accounts([receiver, payer.pubkey()], Finalized)
            slot = reply.context.slot
            want = sum(lamports for at, lamports in amounts if at <= slot)
            got = reply.value[0].lamports if reply.value[0] is not None else 0
            assert got == want, (slot, amounts)
            assert slot <= net.chain.finalized_slot
            balance = await rpc.get_balance(receiver, Finalized)
            assert balance.value == sum(lamports for at, lamports in amounts if at <= balance.context.slot)
            seen.add(got)
            if got == newest:
                break
            await asyncio.sleep(SLOT_MS / 2000)
        assert newest in seen and min(seen) < newest, seen  # it answered older states first, then the new one
        assert reply.context.slot >= amounts[-1][0]
        # without a commitment, reads stay at the newest state, as the chain's own tools expect
        assert (await rpc.get_balance(receiver, Processed)).value == newest


async def test_the_replica_catches_up_a_long_log_a_budget_at_a_time(net: Localnet) -> None:
    async with AsyncClient(net.rpc_url) as rpc:
        payer = Keypair()
        await rpc.request_airdrop(payer.pubkey(), 10**9)
        await asyncio.sleep(SLOT_MS * (DEPTH + 3) / 1000)
    replica = FinalizedState(net.chain, budget=1)
    slots = []
    for _ in range(len(net.chain.log) + 2):
        slot, _svm = replica.state()
        slots.append(slot)
    # one transaction a call: the slot it answers at climbs, never past the finalized one, until it is there
    assert slots == sorted(slots) and slots[0] < slots[-1] <= net.chain.finalized_slot
    assert replica.applied == sum(1 for at, _ in net.chain.log if at <= slots[-1])
    assert _svm.get_balance(payer.pubkey()) == net.chain.svm.get_balance(payer.pubkey()) == 10**9
