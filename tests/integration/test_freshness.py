"""One freshness: the lag now (lag at the last cursor write plus the time since) is the figure of /v1/health,
the dashboards and the jobs' lag rule, so a killed indexer turns /v1/health degraded within a minute."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
import httpx
import pytest
from indexer_harness import local_chain, simulate, wait_until_indexed

from api.app import create_app
from api.settings import ApiSettings
from warehouse.freshness import STALE_AFTER_SECONDS, freshness
from warehouse.jobs.runner import JobContext, run_jobs
from warehouse.jobs.settings import JobSettings
from warehouse.queries import dashboard

MEMEFANS = [sys.executable, "-m", "memefans.cli"]


@asynccontextmanager
async def api(db_url: str, settings: ApiSettings | None = None) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings or ApiSettings(), database_url=db_url)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as http,
    ):
        yield http


async def test_health_dashboards_and_the_lag_rule_read_the_same_lag_now(db_url: str, db_pool: asyncpg.Pool) -> None:
    """A cursor written 200 s ago with a lag of 2 s: every reader says about 202 s, not 2."""
    async with db_pool.acquire() as conn:
        await conn.execute(
            "INSERT INTO cursors (name, slot, details, updated_at)"
            " VALUES ('gift_pool', 50, $1, now() - interval '200 s')",
            json.dumps({"tip_slot": 52, "lag_seconds": 2.0}),
        )
    fresh = await freshness(db_pool)
    assert (fresh.cursor_slot, fresh.tip_slot, fresh.lag_slots) == (50, 52, 2)
    assert fresh.lag_seconds is not None and 202 <= fresh.lag_seconds < 212
    assert fresh.lag_seconds - 1 <= (await dashboard.indexer_lag(db_pool) or 0) < fresh.lag_seconds + 10
    health_page = await dashboard.indexer_health(db_pool)
    assert fresh.lag_seconds - 1 <= health_page["lag_seconds"] < fresh.lag_seconds + 10
    ctx = JobContext(db_pool, JobSettings())
    await run_jobs(ctx, ["anomalies"])
    async with db_pool.acquire() as conn:
        evidence = await conn.fetchval("SELECT evidence::text FROM anomalies WHERE rule = 'indexer_lag'")
    assert (
        evidence is not None and fresh.lag_seconds - 1 <= json.loads(evidence)["lag_seconds"] < fresh.lag_seconds + 10
    )
    async with api(db_url) as http:
        health = (await http.get("/v1/health")).json()
        assert health["status"] == "degraded"
        assert fresh.lag_seconds - 1 <= health["indexer_lag_seconds"] < fresh.lag_seconds + 10
        assert health["indexer_lag_slots"] == 2
        async with db_pool.acquire() as conn:  # the indexer writes again, caught up
            await conn.execute("UPDATE cursors SET updated_at = now(), details = details || '{\"lag_seconds\": 0}'")
        await asyncio.sleep(0.6)  # past the API's half-second cache of the cursor
        health = (await http.get("/v1/health")).json()
        assert health["status"] == "ok" and health["indexer_lag_seconds"] < 5
    async with api(db_url, ApiSettings(max_lag_seconds=0.5)) as http:  # the limit is a setting
        await asyncio.sleep(1.0)
        assert (await http.get("/v1/health")).json()["status"] == "degraded"


async def test_health_says_degraded_within_a_minute_of_the_indexer_being_killed(
    db_url: str, db_pool: asyncpg.Pool, tmp_path: Path
) -> None:
    """A real `memefans index` process on a live local chain, killed with SIGKILL (no goodbye write)."""
    assert STALE_AFTER_SECONDS < 60
    async with local_chain(slot_ms=100) as net:
        await simulate(net, seed=7, duration=1.0)
        env = {**os.environ, "DATABASE_URL": db_url}
        log = tmp_path / "index.log"
        with log.open("wb") as out:
            process = await asyncio.create_subprocess_exec(
                *MEMEFANS, "index", "--rpc-url", net.rpc_url, "--ws-url", net.ws_url, "--metrics-port", "0",
                env=env, stdout=out, stderr=out,
            )  # fmt: skip
            try:
                await wait_until_indexed(db_pool, net, timeout=90, finalized=False)
                async with api(db_url) as http:  # the default limit
                    alive = []
                    for _ in range(10):  # a live indexer stays current: ok, a lag of a few seconds
                        health = (await http.get("/v1/health")).json()
                        alive.append((health["status"], health["indexer_lag_seconds"]))
                        await asyncio.sleep(0.5)
                    assert all(status == "ok" for status, _ in alive), alive
                    process.kill()
                    await process.wait()
                    killed = time.monotonic()
                    health = (await http.get("/v1/health")).json()
                    while health["status"] == "ok" and time.monotonic() - killed < 75:
                        await asyncio.sleep(1.0)
                        health = (await http.get("/v1/health")).json()
                    took = time.monotonic() - killed
            finally:
                if process.returncode is None:
                    process.kill()
                    await process.wait()
    assert health["status"] == "degraded", (health, log.read_text()[-2000:])
    assert took < 60, took
    assert health["indexer_lag_seconds"] > STALE_AFTER_SECONDS
    print(f"live lag {max(lag for _, lag in alive)} s; degraded {took:.1f} s after the kill")


@pytest.fixture(autouse=True)
def _no_ambient_api_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MEMEFANS_API_MAX_LAG_SECONDS", raising=False)
