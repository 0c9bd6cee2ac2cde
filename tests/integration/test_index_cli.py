"""The `memefans index` and `memefans decode` commands as a user runs them: a real process, JSON logs,
Prometheus metrics on a port, a clean stop on SIGTERM; decode's JSON, exit codes and messages."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import asyncpg
import httpx
from conftest import free_port
from indexer_harness import local_chain, simulate, wait_until_indexed

MEMEFANS = [sys.executable, "-m", "memefans.cli"]


async def test_index_serves_metrics_logs_json_and_stops_cleanly(
    db_url: str, db_pool: asyncpg.Pool, tmp_path: Path
) -> None:
    port = free_port()
    async with local_chain() as net:
        truth = await simulate(net, seed=41, duration=1.0)
        env = {**os.environ, "DATABASE_URL": db_url, "MEMEFANS_INDEXER_FINALITY_INTERVAL_S": "0.2"}
        log = tmp_path / "index.log"
        with log.open("wb") as out:
            process = await asyncio.create_subprocess_exec(
                *MEMEFANS, "index", "--rpc-url", net.rpc_url, "--ws-url", net.ws_url, "--metrics-port", str(port),
                env=env, stdout=out, stderr=out,
            )  # fmt: skip
            try:
                on_chain = await wait_until_indexed(db_pool, net, timeout=60)
                async with httpx.AsyncClient() as http:
                    metrics = (await http.get(f"http://127.0.0.1:{port}/metrics")).text
            finally:
                process.send_signal(signal.SIGTERM)
                code = await process.wait()
    assert code == 0
    values = {
        line.split(" ")[0]: float(line.split(" ")[1])
        for line in metrics.splitlines()
        if line and not line.startswith("#") and "{" not in line
    }
    assert values["memefans_indexer_cursor_slot"] > 0
    assert values["memefans_indexer_tip_slot"] >= values["memefans_indexer_cursor_slot"]
    assert values["memefans_indexer_slot_lag"] >= 0
    assert 0 <= values["memefans_indexer_seconds_behind"] < 60  # it keeps up with the local chain
    assert values["memefans_indexer_batches_total"] >= 1
    gifts = sum(c["gift_count"] for c in truth["creators"])
    sent = [
        line
        for line in metrics.splitlines()
        if line.startswith("memefans_indexer_events_total{") and "GiftSent" in line
    ]
    assert sent and float(sent[0].rsplit(" ", 1)[1]) >= gifts
    entries = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    assert entries and all({"ts", "level", "msg"} <= set(e) for e in entries)
    assert any(e["msg"] == "indexing" and e["rpc_url"] == net.rpc_url for e in entries)
    assert any(e["msg"] == "stopped by signal" for e in entries)
    assert len(on_chain) > gifts  # every gift, plus the registrations and the rest


def decode(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*MEMEFANS, "decode", *args], capture_output=True, text=True, timeout=60, check=False)


def test_decode_prints_a_real_transaction_as_json(realdata: Path) -> None:
    (legacy,) = (realdata / "idls/pump").glob("pump__LEGACY_format*.json")
    result = decode(
        str(realdata / "transactions/pumpfun/chainstack__raw_buy_tx_from_getTransaction.json"), "--idl", str(legacy)
    )
    assert result.returncode == 0, result.stderr
    decoded = json.loads(result.stdout)
    assert decoded["signature"].startswith("33LHUzKf")
    assert [(e["name"], e["fields"]["solAmount"], e["source"]) for e in decoded["events"]] == [
        ("TradeEvent", 24080282, "both"),
        ("TradeEvent", 24080281, "both"),
    ]
    assert decoded["events"][0]["extra"] == "58275559010000006d8314e85b330200"  # the bytes past the old IDL, in hex
    paths = [ix["path"] for ix in decoded["instructions"]]
    assert "2" in paths and any(p.startswith("2.") for p in paths)


def test_decode_summarises_a_whole_block(realdata: Path) -> None:
    (pump,) = (realdata / "idls/pump").glob("pump__v030_format__pump-public-docs_0c64400*.json")
    result = decode(str(realdata / "blocks/sava__getBlock_mainnet.json.zip"), "--idl", str(pump))
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert (summary["transactions"], summary["failed"], summary["undecodable"]) == (1790, 409, 0)
    assert summary["events"] == {"6EF8rrecthR5Dkzon8Nwu78hRvfCKubJ14M5uBEwF6P:TradeEvent": 13}


def test_decode_says_why_it_cannot(tmp_path: Path, realdata: Path) -> None:
    meta_only = realdata / "transactions/carbon_meta_only/carbon__simple_tx.json"
    result = decode(str(meta_only))
    assert result.returncode == 1 and "undecodable: meta missing" in result.stderr
    missing = decode(str(tmp_path / "nope.json"))
    assert missing.returncode == 2 and "cannot read" in missing.stderr
    no_address = decode(str(meta_only), "--idl", str(realdata / "idls/pinax_substreams_idls/orca__whirlpool__idl.json"))
    assert no_address.returncode == 2 and "--program-id" in no_address.stderr
