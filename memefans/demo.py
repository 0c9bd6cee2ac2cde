"""`memefans demo`: the whole platform in one command, in one process beside the embedded PostgreSQL.

The warehouse (started and migrated), the local chain (its ledger kept in the data folder, so a restart
resumes it), the indexer (backfill, then live), the jobs on their schedule, the API, the dashboard, and the
simulator sending gift traffic with incidents all along. It prints the URLs, the admin login and creators'
one-time links, then a progress line; Ctrl-C stops everything (PostgreSQL included) and keeps the data.
`--reset` starts from nothing; `--for N` runs N seconds, then waits for the indexer, runs the jobs and
prints a summary, and exits 0 only if the warehouse matches the chain.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import shutil
import signal
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any

__all__ = ["main"]


@dataclass
class Ports:
    rpc: int = 8899
    api: int = 8000
    dashboard: int = 8050
    metrics: int = 9464


@dataclass
class Progress:
    started: float = field(default_factory=time.monotonic)
    steps: int = 0
    errors: int = 0


def _say(text: str) -> None:
    print(text, flush=True)


async def _simulate(rpc_url: str, stop: asyncio.Event, progress: Progress, tps: float, tag: str) -> None:
    from solana.rpc.async_api import AsyncClient

    from programs.localnet.simulate import INCIDENTS, Simulator

    async with AsyncClient(rpc_url, timeout=30) as rpc:
        sim = Simulator(rpc, random.Random(tag), handle_prefix=tag)
        await sim.load_config()
        await sim.setup(12, 30)
        pending = list(INCIDENTS)
        k = 0
        while not stop.is_set():
            try:
                if pending and k % 150 == 75:
                    await getattr(sim, pending.pop(0))()
                await sim.step(k)
            except (RuntimeError, OSError) as exc:  # a simulated transaction that went astray: go on
                progress.errors += 1
                _say(f"simulator: {exc}")
            k += 1
            progress.steps = k
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 1 / tps)


async def _status(pool: Any) -> dict[str, Any]:
    async with pool.acquire() as conn:
        gifts = await conn.fetchval("SELECT count(*) FROM gifts")
        anomalies = await conn.fetch("SELECT rule, count(*) AS n FROM anomalies GROUP BY rule ORDER BY rule")
        cursor = await conn.fetchrow(
            "SELECT slot, details::text AS details FROM cursors ORDER BY updated_at DESC LIMIT 1"
        )
    details = json.loads(cursor["details"]) if cursor else {}
    return {
        "gifts": gifts,
        "anomalies": {r["rule"]: r["n"] for r in anomalies},
        "cursor_slot": cursor["slot"] if cursor else None,
        "lag_seconds": details.get("lag_seconds"),
    }


async def _run(args: argparse.Namespace) -> int:
    import uvicorn
    from werkzeug.serving import make_server

    from api.app import create_app as create_api
    from api.settings import ApiSettings
    from dashboards.app import create_app as create_dashboard
    from dashboards.auth import make_link_token
    from dashboards.settings import DEV_ADMIN_PASSWORD, DashboardSettings
    from indexer.cli import run as run_indexer
    from indexer.settings import IndexerSettings
    from programs.localnet.chain import Chain
    from programs.localnet.genesis import deploy_gift_pool, dev_keys
    from programs.localnet.server import run_localnet
    from warehouse.cli import bring_up
    from warehouse.db import create_pool, downgrade, embedded_server, upgrade
    from warehouse.jobs.runner import JobContext
    from warehouse.jobs.scheduler import run_forever
    from warehouse.jobs.settings import JobSettings
    from warehouse.settings import WarehouseSettings

    warehouse = WarehouseSettings()
    ports = Ports(args.rpc_port, args.api_port, args.dashboard_port, args.metrics_port)
    data = warehouse.data_dir.resolve()
    ledger = data / "ledger"
    url = bring_up(warehouse)
    if args.reset:
        _say("reset: the warehouse and the chain start from nothing")
        await asyncio.to_thread(downgrade, url, "base")
        shutil.rmtree(ledger, ignore_errors=True)
    await asyncio.to_thread(upgrade, url)
    ledger.mkdir(parents=True, exist_ok=True)
    chain = Chain(slot_ms=400, finality_depth=32, ledger=ledger / "journal.jsonl")
    if not chain.resumed:
        deploy_gift_pool(chain, dev_keys())
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    progress = Progress()
    tag = f"d{int(time.time()) % 10**6}"
    tasks: list[asyncio.Task[Any]] = []
    pool = await create_pool(url)
    dashboard = None
    dashboard_server = None
    api_server = None
    metrics_server = None
    try:
        async with run_localnet(chain=chain, rpc_port=ports.rpc, ws_port=ports.rpc + 1, slot_ms=400) as net:
            indexer_settings = IndexerSettings(rpc_url=net.rpc_url, ws_url=net.ws_url, metrics_port=0)
            if ports.metrics:
                from prometheus_client import start_http_server

                from indexer import metrics

                metrics_server, _ = start_http_server(ports.metrics, "127.0.0.1", registry=metrics.REGISTRY)
            tasks.append(
                asyncio.create_task(run_indexer(indexer_settings, database_url=url, on_batch=lambda b, s: None))
            )
            jobs = JobSettings(rpc_url=net.rpc_url, analytics_every_s=20, anomalies_every_s=15, reconcile_every_s=60)
            tasks.append(asyncio.create_task(run_forever(pool, jobs, url, stop)))
            api_server = uvicorn.Server(
                uvicorn.Config(
                    create_api(ApiSettings(rpc_url=net.rpc_url), database_url=url),
                    host="127.0.0.1",
                    port=ports.api,
                    log_level="warning",
                )
            )
            tasks.append(asyncio.create_task(api_server.serve()))
            dash_settings = DashboardSettings(port=ports.dashboard)
            dashboard = create_dashboard(dash_settings, database_url=url)
            dashboard_server = make_server("127.0.0.1", ports.dashboard, dashboard.server, threaded=True)
            threading.Thread(target=dashboard_server.serve_forever, name="dashboard", daemon=True).start()
            traffic = asyncio.Event()
            simulator = asyncio.create_task(_simulate(net.rpc_url, traffic, progress, args.tps, tag))
            tasks.append(simulator)
            await asyncio.sleep(3)  # the simulator registers its creators first
            async with pool.acquire() as conn:
                creators = await conn.fetch("SELECT creator, platform, handle FROM creators ORDER BY slot DESC LIMIT 3")
            _say(f"\nMEMEFANS is running (data in {data}; Ctrl-C stops it and keeps the data)")
            _say(f"  chain JSON-RPC  {net.rpc_url}   PubSub {net.ws_url}")
            _say(f"  API             http://127.0.0.1:{ports.api}/docs")
            if ports.metrics:
                _say(f"  indexer metrics http://127.0.0.1:{ports.metrics}/metrics")
            _say(f"  dashboard       http://127.0.0.1:{ports.dashboard}/login   admin / {DEV_ADMIN_PASSWORD}")
            for c in creators:
                token = make_link_token(dash_settings.secret_key, c["creator"], dash_settings.link_ttl_s)
                link = f"http://127.0.0.1:{ports.dashboard}/auth/link/{token}"
                _say(f"  creator link    {link}   (@{c['handle']} on {c['platform']})")
            deadline = time.monotonic() + args.for_seconds if args.for_seconds else None
            while not stop.is_set():
                if deadline is not None and time.monotonic() >= deadline:
                    break
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), 5)
                status = await _status(pool)
                lag = status["lag_seconds"]
                _say(
                    f"  {time.monotonic() - progress.started:6.0f} s  gifts indexed {status['gifts']:>6}  "
                    f"lag {lag if lag is not None else '-'} s  anomalies {sum(status['anomalies'].values())}  "
                    f"simulator steps {progress.steps}"
                )
            if deadline is None:
                return 0
            traffic.set()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await simulator
            return await _summary(net.rpc_url, pool, JobContext(pool, jobs, full=True))
    finally:
        stop.set()
        if api_server is not None:
            api_server.should_exit = True  # uvicorn's own shutdown, so that its lifespan ends cleanly
            with contextlib.suppress(asyncio.CancelledError, TimeoutError, Exception):
                await asyncio.wait_for(asyncio.shield(tasks[2]), 5)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if dashboard_server is not None:
            dashboard_server.shutdown()
        if metrics_server is not None:
            metrics_server.shutdown()
            metrics_server.server_close()
        if dashboard is not None:
            dashboard.server.extensions["memefans_warehouse"].close()
        await pool.close()
        if not warehouse.database_url:
            embedded_server(warehouse).down()
        _say("stopped: chain, indexer, jobs, API, dashboard and PostgreSQL; the data is kept")


async def _program_signatures(rpc_url: str) -> set[str]:
    import httpx

    from programs.gift_pool.client import PROGRAM_ID

    found: set[str] = set()
    before = None
    async with httpx.AsyncClient(timeout=30) as http:
        while True:
            options: dict[str, Any] = {
                "limit": 1000,
                "commitment": "confirmed",
                **({"before": before} if before else {}),
            }
            body = {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "getSignaturesForAddress",
                "params": [str(PROGRAM_ID), options],
            }
            page = (await http.post(rpc_url, json=body)).json()["result"]
            found |= {entry["signature"] for entry in page}
            if len(page) < 1000:
                return found
            before = page[-1]["signature"]


async def _finalized_slot(rpc_url: str) -> int:
    import httpx

    async with httpx.AsyncClient(timeout=30) as http:
        body = {"jsonrpc": "2.0", "id": 1, "method": "getSlot", "params": [{"commitment": "finalized"}]}
        return int((await http.post(rpc_url, json=body)).json()["result"])


async def _summary(rpc_url: str, pool: Any, ctx: Any) -> int:
    """With the traffic stopped: let the indexer catch up, run the jobs, say whether the warehouse matches."""
    from warehouse.jobs.runner import run_jobs

    missing: set[str] = set()
    for _ in range(120):
        on_chain = await _program_signatures(rpc_url)
        async with pool.acquire() as conn:
            stored = {r["signature"] for r in await conn.fetch("SELECT signature FROM transactions")}
        missing = on_chain - stored
        if not missing and stored <= on_chain:
            break
        await asyncio.sleep(0.5)
    # the vaults are read at a finalized slot: wait until the last program transaction is final
    async with pool.acquire() as conn:
        last = await conn.fetchval("SELECT coalesce(max(slot), 0) FROM transactions")
    for _ in range(120):
        if await _finalized_slot(rpc_url) >= last:
            break
        await asyncio.sleep(0.5)
    results = await run_jobs(ctx, ["creator_analytics", "platform_analytics", "funding", "anomalies"])
    (reconciled,) = await run_jobs(ctx, ["reconcile"])
    outcome = ctx.notes.get("reconcile")
    status = await _status(pool)
    _say("\nsummary")
    _say(f"  program transactions on chain {len(on_chain)}, in the warehouse {len(stored)}, missing {len(missing)}")
    _say(f"  gifts indexed {status['gifts']}; indexer lag {status['lag_seconds']} s at slot {status['cursor_slot']}")
    _say("  anomalies by rule: " + (", ".join(f"{k} {v}" for k, v in status["anomalies"].items()) or "none"))
    verdict = outcome if isinstance(outcome, dict) else {}
    shown = {k: verdict.get(k) for k in ("verdict", "reason", "slot", "vaults") if k in verdict}
    _say(f"  reconciliation: {shown | {'mismatches': len(verdict.get('mismatches') or [])}}")
    for m in verdict.get("mismatches") or []:
        _say(
            f"    {m['creator']} {m['mint'] or 'SOL'}: chain {m['chain']}, warehouse {m['warehouse']} at slot "
            f"{m['slot']}; {m['signature_count']} transaction(s) since slot {m['since_slot']}"
        )
    failed = [r.job for r in [*results, reconciled] if r.error]
    if failed:
        _say(f"  jobs that failed: {', '.join(failed)}")
    matches = verdict.get("verdict") == "match" and not missing and stored <= on_chain
    _say("  the warehouse matches the chain" if matches else "  the warehouse does NOT match the chain")
    return 0 if matches and not failed else 1


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="memefans demo", description=__doc__.split("\n\n")[0])
    parser.add_argument("--for", dest="for_seconds", type=float, default=None, help="run this long, then summarise")
    parser.add_argument("--reset", action="store_true", help="start from an empty warehouse and a new chain")
    parser.add_argument("--tps", type=float, default=3.0, help="simulator steps a second")
    parser.add_argument("--rpc-port", type=int, default=8899)
    parser.add_argument("--api-port", type=int, default=8000)
    parser.add_argument("--dashboard-port", type=int, default=8050)
    parser.add_argument("--metrics-port", type=int, default=9464, help="the indexer's Prometheus metrics; 0: none")
    args = parser.parse_args(argv)
    from warehouse.errors import WarehouseError

    try:
        return asyncio.run(_run(args))
    except WarehouseError as exc:
        print(f"memefans demo: {exc}", file=sys.stderr)
        return 1
