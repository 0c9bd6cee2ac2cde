"""Sustained sendTransaction and getTransaction rates of the local chain over real HTTP JSON-RPC.

Baseline, measured in the same run: the same transfers executed on LiteSVM in-process (no RPC), so the
ratio shows what the JSON-RPC layer costs. Requests are sequential from one client (a wallet's view).
"""

from __future__ import annotations

import asyncio
import time

from solana.rpc.async_api import AsyncClient
from solana.rpc.models import TxOpts
from solders.hash import Hash
from solders.keypair import Keypair
from solders.message import Message
from solders.signature import Signature
from solders.system_program import TransferParams, transfer
from solders.transaction import VersionedTransaction

from programs.localnet.chain import Chain
from programs.localnet.server import run_localnet

N = 2_000


def transfers(chain: Chain, payer: Keypair, count: int) -> list[VersionedTransaction]:
    receiver = Keypair().pubkey()
    blockhash = Hash.from_string(chain.latest_blockhash)
    return [
        VersionedTransaction(
            Message.new_with_blockhash(
                [transfer(TransferParams(from_pubkey=payer.pubkey(), to_pubkey=receiver, lamports=1_000_000 + i))],
                payer.pubkey(),
                blockhash,
            ),
            [payer],
        )
        for i in range(count)
    ]


def baseline() -> float:
    chain = Chain(slot_ms=400)
    payer = Keypair()
    chain.airdrop(payer.pubkey(), 10**13)
    txs = transfers(chain, payer, N)
    started = time.perf_counter()
    for tx in txs:
        chain.svm.send_transaction(tx)
    return N / (time.perf_counter() - started)


async def over_rpc() -> tuple[float, float, float]:
    chain = Chain(slot_ms=400)
    payer = Keypair()
    chain.airdrop(payer.pubkey(), 10**13)
    txs = transfers(chain, payer, N)
    async with run_localnet(chain=chain, slot_ms=400) as net, AsyncClient(net.rpc_url) as client:
        opts = TxOpts(skip_preflight=True)
        started = time.perf_counter()
        signatures = [(await client.send_raw_transaction(bytes(tx), opts)).value for tx in txs]
        send_rate = N / (time.perf_counter() - started)
        preflight_txs = transfers(chain, payer, 500)
        started = time.perf_counter()
        for tx in preflight_txs:
            await client.send_raw_transaction(bytes(tx), TxOpts(skip_preflight=False))
        preflight_rate = 500 / (time.perf_counter() - started)
        started = time.perf_counter()
        for signature in signatures:
            await client.get_transaction(Signature.from_string(str(signature)), "json", "processed", 0)  # type: ignore[arg-type]
        get_rate = N / (time.perf_counter() - started)
    return send_rate, preflight_rate, get_rate


def main() -> None:
    base = baseline()
    send, preflight, get = asyncio.run(over_rpc())
    print(f"{N} system transfers, one sequential client, 127.0.0.1")
    print(f"LiteSVM in-process (baseline)    {base:8.0f} tx/s")
    print(f"sendTransaction, skipPreflight   {send:8.0f} tx/s   ({send / base:.2f}x baseline)")
    print(f"sendTransaction, with preflight  {preflight:8.0f} tx/s   ({preflight / base:.2f}x baseline)")
    print(f"getTransaction (json)            {get:8.0f} req/s")


if __name__ == "__main__":
    main()
