"""Property tests of the API from its own OpenAPI document (schemathesis): no input yields a 5xx.

The API runs as users run it (`memefans api` under uvicorn) on a seeded real PostgreSQL, with the local
chain behind the Actions routes.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from programs.localnet.chain import Chain
from programs.localnet.genesis import deploy_gift_pool, dev_keys
from programs.localnet.server import run_localnet
from tests.conftest import free_port
from tests.integration.test_api import seed


@pytest.fixture
async def api_url(db_url: str, db_pool: asyncpg.Pool) -> AsyncIterator[str]:
    await seed(db_pool)
    chain = Chain(slot_ms=100, finality_depth=4)
    deploy_gift_pool(chain, dev_keys())
    async with run_localnet(chain=chain, slot_ms=100) as net:
        async for url in _serve_api(db_url, net.rpc_url):
            yield url


async def _serve_api(db_url: str, rpc_url: str) -> AsyncIterator[str]:
    port = free_port()
    env = dict(os.environ, DATABASE_URL=db_url, MEMEFANS_API_RATE_LIMIT_PER_MINUTE="1000000",
               MEMEFANS_API_RATE_LIMIT_BURST="100000",
               MEMEFANS_API_RPC_URL=rpc_url)  # fmt: skip
    process = subprocess.Popen(  # noqa: ASYNC220 - the server must be a separate process
        [sys.executable, "-m", "memefans", "api", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient() as http:  # wait without blocking the loop the local chain runs on
            for _ in range(200):
                try:
                    await http.get(url + "/v1/health", timeout=1)
                    break
                except httpx.TransportError:
                    await asyncio.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(10)


def check_operations(url: str) -> list[str]:
    """Every operation of the document, fuzzed by hypothesis; returns the operations checked."""
    checked = []
    for result in schemathesis.openapi.from_url(url + "/openapi.json").get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
        def no_server_error(case: Any) -> None:
            response = case.call(base_url=url, timeout=10)
            assert response.status_code < 500, f"{case.method} {case.formatted_path}: {response.text}"
            if response.status_code >= 400:
                assert set(response.json()) == {"error", "message"}  # every error has the documented shape

        no_server_error()
        checked.append(operation.label)
    return checked


async def test_no_input_gives_a_server_error(api_url: str) -> None:
    checked = await asyncio.to_thread(check_operations, api_url)
    assert "GET /v1/creators/{platform}/{handle}" in checked
    assert len(checked) >= 8
