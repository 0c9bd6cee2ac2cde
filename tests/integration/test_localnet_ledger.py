"""`memefans localnet --ledger DIR`: a restarted chain resumes the same history (signatures, balances)."""

from __future__ import annotations

import base64
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
from solders.hash import Hash
from solders.keypair import Keypair
from solders.message import Message
from solders.system_program import TransferParams, transfer
from solders.transaction import VersionedTransaction

from tests.conftest import free_port


def start(ledger: Path, rpc: int, ws: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "memefans", "localnet", "--rpc-port", str(rpc), "--ws-port", str(ws),
         "--slot-ms", "50", "--ledger", str(ledger)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=dict(os.environ),
    )  # fmt: skip


def call(url: str, method: str, params: list[object]) -> object:
    for _ in range(100):
        try:
            body = httpx.post(url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).json()
            return body["result"]
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError("the local chain did not come up")


def stop(process: subprocess.Popen[str]) -> str:
    process.send_signal(signal.SIGINT)
    out, _ = process.communicate(timeout=20)
    return out


def test_restart_resumes_the_same_history(tmp_path: Path) -> None:
    rpc, ws = free_port(), free_port()
    url = f"http://127.0.0.1:{rpc}"
    first = start(tmp_path, rpc, ws)
    payer, receiver = Keypair(), Keypair().pubkey()
    try:
        call(url, "requestAirdrop", [str(payer.pubkey()), 10**9])
        blockhash = call(url, "getLatestBlockhash", [])["value"]["blockhash"]  # type: ignore[index]
        ix = transfer(TransferParams(from_pubkey=payer.pubkey(), to_pubkey=receiver, lamports=2_500_000))
        tx = VersionedTransaction(
            Message.new_with_blockhash([ix], payer.pubkey(), Hash.from_string(blockhash)), [payer]
        )

        signature = call(url, "sendTransaction", [base64.b64encode(bytes(tx)).decode(), {"encoding": "base64"}])
        before = call(url, "getTransaction", [signature, {"commitment": "processed"}])
        slot_before = call(url, "getSlot", [{"commitment": "processed"}])
    finally:
        first_out = stop(first)
    assert "Config initialized" in first_out

    second = start(tmp_path, rpc, ws)
    try:
        after = call(url, "getTransaction", [signature, {"commitment": "processed"}])
        balance = call(url, "getBalance", [str(receiver), {"commitment": "processed"}])
        history = call(url, "getSignaturesForAddress", [str(receiver), {"commitment": "processed"}])
        slot_after = call(url, "getSlot", [{"commitment": "processed"}])
    finally:
        second_out = stop(second)
    assert "resumed the ledger" in second_out
    assert after == before  # same slot, block time, logs, balances
    assert balance["value"] == 2_500_000  # type: ignore[index]
    assert [h["signature"] for h in history] == [signature]  # type: ignore[union-attr, index]
    assert slot_after >= slot_before  # type: ignore[operator]
