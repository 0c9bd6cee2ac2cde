"""`memefans localnet`: serve the local chain until Ctrl-C (the local chain's composition root)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from pathlib import Path

from programs.gift_pool.client import PROGRAM_ID
from programs.localnet.chain import Chain
from programs.localnet.faults import Faults
from programs.localnet.genesis import deploy_gift_pool, dev_keys
from programs.localnet.server import run_localnet

__all__ = ["main"]


async def _serve(args: argparse.Namespace) -> None:
    chain = Chain(slot_ms=args.slot_ms, finality_depth=args.finality_depth, ledger=args.ledger)
    keys = dev_keys()
    if chain.resumed:
        print(f"resumed the ledger in {args.ledger} at slot {chain.slot} ({len(chain.transactions)} transactions)")
        initialized_note = "resumed"
    else:
        initialized_note = f"Config initialized in {deploy_gift_pool(chain, keys).signature}"
    faults = Faults()
    faults.update({
        "rate_limit_fraction": args.fault_429, "latency_ms": args.fault_latency_ms,
        "duplicate_fraction": args.fault_duplicates, "notification_delay_ms": args.fault_delay_ms,
        "ws_drop_every_s": args.fault_ws_drop_s,
    })  # fmt: skip
    async with run_localnet(
        rpc_port=args.rpc_port, ws_port=args.ws_port, slot_ms=args.slot_ms, chain=chain, faults=faults
    ) as net:
        print(f"JSON-RPC: {net.rpc_url}\nPubSub:   {net.ws_url}\nfaucet:   {chain.faucet.pubkey()}")
        print(f"program:  {PROGRAM_ID} ({initialized_note})")
        print(keys.describe(), flush=True)
        await asyncio.Event().wait()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="memefans localnet", description="A local Solana chain over LiteSVM.")
    parser.add_argument("--rpc-port", type=int, default=8899)
    parser.add_argument("--ws-port", type=int, default=8900)
    parser.add_argument("--slot-ms", type=int, default=400, help="milliseconds a slot lasts")
    parser.add_argument("--finality-depth", type=int, default=32, help="slots until a slot is finalized")
    parser.add_argument("--ledger", type=Path, default=None, help="keep the history here; a restart resumes it")
    faults = parser.add_argument_group("fault injection (off by default; also POST /admin/faults at run time)")
    faults.add_argument("--fault-429", type=float, default=0.0, help="fraction of requests answered 429")
    faults.add_argument("--fault-latency-ms", type=int, default=0, help="latency added to every request")
    faults.add_argument("--fault-duplicates", type=float, default=0.0, help="fraction of notifications sent twice")
    faults.add_argument("--fault-delay-ms", type=int, default=0, help="delay of every notification")
    faults.add_argument("--fault-ws-drop-s", type=float, default=0.0, help="drop websockets every N seconds")
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args))
    return 0
