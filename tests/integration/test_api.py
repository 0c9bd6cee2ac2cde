"""The HTTP API against a real PostgreSQL with seeded facts: exact figures, pagination, every 4xx path."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from solders.keypair import Keypair

from api.app import create_app
from api.settings import EXTENSION_ID, ApiSettings

FANS = [str(Keypair.from_seed(bytes([i]) * 32).pubkey()) for i in range(1, 4)]
AUTH = str(Keypair.from_seed(bytes([9]) * 32).pubkey())
ALICE, BOB = "CreatorAlicePda", "CreatorBobPda"
MINT = "MintMeme"
# the lag now: 1.2 s recorded with the seeded cursor, plus the moments since it was written
LAG = pytest.approx(1.2, abs=2.0)


async def seed(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        for creator, platform, handle, slot in ((ALICE, "x", "Alice", 1), (BOB, "youtube", "bob", 2)):
            await conn.execute(
                "INSERT INTO creators (creator, platform, handle, handle_key, signature, slot, commitment)"
                " VALUES ($1, $2, $3, $4, $1, $5, 'finalized')",
                creator, platform, handle, handle.lower(), slot,
            )  # fmt: skip
        await conn.execute(
            "INSERT INTO creator_bindings (signature, ix_path, event_index, slot, commitment, creator, authority,"
            " verifier) VALUES ('bind1', '0', 0, 3, 'finalized', $1, $2, $2)",
            ALICE, AUTH,
        )  # fmt: skip
        # 25 SOL gifts to Alice: fan i % 3, amount (i + 1) * 1e6, fee 2.5%; slots 10..34; the last 5 confirmed.
        for i in range(25):
            await conn.execute(
                "INSERT INTO gifts (signature, ix_path, event_index, slot, commitment, creator, fan, amount, fee,"
                " post_id, memo) VALUES ($1, '0', 0, $2, $3, $4, $5, $6, $7, $8, 'gm')",
                f"gift{i:02d}", 10 + i, "confirmed" if i >= 20 else "finalized", ALICE, FANS[i % 3],
                (i + 1) * 1_000_000, (i + 1) * 25_000, "post-a" if i % 2 == 0 else "post-b",
            )  # fmt: skip
        await conn.execute(
            "INSERT INTO gifts (signature, ix_path, event_index, slot, commitment, creator, fan, mint, amount, fee,"
            " post_id) VALUES ('tok1', '1', 0, 40, 'finalized', $1, $2, $3, 1000, 10, 'post-a')",
            ALICE, FANS[0], MINT,
        )  # fmt: skip
        await conn.execute(
            "INSERT INTO gifts (signature, ix_path, event_index, slot, commitment, creator, fan, amount, fee)"
            " VALUES ('bobgift', '0', 0, 41, 'finalized', $1, $2, 7000000, 0)",
            BOB, FANS[1],
        )  # fmt: skip
        await conn.execute(
            "INSERT INTO withdrawals (signature, ix_path, event_index, slot, commitment, creator, authority,"
            " destination, amount, by_admin) VALUES ('w1', '0', 0, 45, 'finalized', $1, $2, $2, 50000000, false)",
            ALICE, AUTH,
        )  # fmt: skip
        await conn.execute(
            "INSERT INTO cursors (name, slot, details) VALUES ('gift_pool', 50, $1)",
            json.dumps({"tip_slot": 53, "lag_seconds": 1.2}),
        )


@pytest.fixture
async def client(db_url: str, db_pool: asyncpg.Pool) -> AsyncIterator[httpx.AsyncClient]:
    await seed(db_pool)
    settings = ApiSettings(rate_limit_per_minute=60, rate_limit_burst=40, extension_origin="chrome-extension://abc")
    app = create_app(settings, database_url=db_url)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as http:
            yield http


GROSS = sum((i + 1) * 1_000_000 for i in range(25))
FEES = sum((i + 1) * 25_000 for i in range(25))
SETTLED = sum((i + 1) * 975_000 for i in range(20)) - 50_000_000


async def test_creator_summary_is_exact(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/creators/x/alice")  # handles match case-insensitively
    assert response.status_code == 200
    body = response.json()
    assert body["handle"] == "Alice"
    assert body["authority"] == AUTH
    assert body["totals"] == {"gifted": str(GROSS), "fees": str(FEES), "withdrawn": "50000000"}
    assert body["balance"] == {
        "settled": str(SETTLED),
        "pending": str(GROSS - FEES - 50_000_000 - SETTLED),
        "total": str(GROSS - FEES - 50_000_000),
    }
    assert body["gift_count"] == 25
    assert (body["last_gift"]["signature"], body["last_gift"]["mint"]) == ("tok1", MINT)  # any mint counts
    assert body["escrow"] == {"waiting": False, "amount": "0"}
    assert body["tokens"] == [{"mint": MINT, "gifted": "1000", "fees": "10", "withdrawn": "0", "balance": "990"}]
    assert body["as_of"] == {"slot": 50, "commitment": "confirmed", "indexer_lag_slots": 3, "indexer_lag_seconds": LAG}
    assert response.headers["cache-control"].startswith("public, max-age=")


async def test_unbound_creator_shows_escrow(client: httpx.AsyncClient) -> None:
    body = (await client.get("/v1/creators/youtube/bob")).json()
    assert body["authority"] is None
    assert body["escrow"] == {"waiting": True, "amount": "7000000"}
    assert body["as_of"]["commitment"] == "finalized"


async def test_gift_pages_cover_every_gift_once(client: httpx.AsyncClient) -> None:
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params = {"limit": "7"} | ({"cursor": cursor} if cursor else {})
        page = (await client.get("/v1/creators/x/Alice/gifts", params=params)).json()
        seen += [item["signature"] for item in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 4
    assert seen == ["tok1"] + [f"gift{i:02d}" for i in range(24, -1, -1)]


async def test_post_and_wallet_routes(client: httpx.AsyncClient) -> None:
    post = (await client.get("/v1/posts/x/post-a")).json()
    assert post["gift_count"] == 13
    assert post["total"] == str(sum((i + 1) * 1_000_000 for i in range(0, 25, 2)))
    assert post["tokens"][0]["gifted"] == "1000"

    gifts = (await client.get(f"/v1/wallets/{FANS[1]}/gifts", params={"limit": "200"})).json()
    assert [g["signature"] for g in gifts["items"]][:2] == ["bobgift", "gift22"]
    assert len(gifts["items"]) == 1 + len(range(1, 25, 3))

    balances = (await client.get(f"/v1/wallets/{FANS[1]}/balances")).json()
    assert [(c["handle"], c["gifted"], c["gift_count"]) for c in balances["creators"]] == [
        ("Alice", str(sum((i + 1) * 1_000_000 for i in range(1, 25, 3))), 8),
        ("bob", "7000000", 1),
    ]


async def test_health_and_metrics(client: httpx.AsyncClient) -> None:
    health = (await client.get("/v1/health")).json()
    assert health == {
        "status": "ok",
        "database": "ok",
        "cursor_slot": 50,
        "tip_slot": 53,
        "indexer_lag_slots": 3,
        "indexer_lag_seconds": LAG,
        "as_of": {"slot": 50, "commitment": "confirmed", "indexer_lag_slots": 3, "indexer_lag_seconds": LAG},
    }
    metrics = await client.get("/metrics")
    assert 'memefans_api_requests_total{route="/v1/health",status="200"} 1.0' in metrics.text


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/v1/creators/X!/alice", 400, "invalid_platform"),
        ("/v1/creators/x/" + "a" * 33, 400, "invalid_handle"),
        ("/v1/creators/x/bad%20handle", 400, "invalid_handle"),
        ("/v1/creators/x/nobody", 404, "not_found"),
        ("/v1/creators/x/nobody/gifts", 404, "not_found"),
        ("/v1/creators/x/alice/gifts?limit=0", 400, "invalid_request"),
        ("/v1/creators/x/alice/gifts?limit=201", 400, "invalid_request"),
        ("/v1/creators/x/alice/gifts?limit=ten", 400, "invalid_request"),
        ("/v1/creators/x/alice/gifts?cursor=not-a-cursor", 400, "invalid_cursor"),
        ("/v1/wallets/notakey/gifts", 400, "invalid_pubkey"),
        ("/v1/wallets/0OIl0OIl0OIl0OIl0OIl0OIl0OIl0OIl/balances", 400, "invalid_pubkey"),
        ("/v1/posts/x/" + "p" * 129, 400, "invalid_post_id"),
        ("/v1/nothing-here", 404, "not_found"),
    ],
)
async def test_bad_input_answers_4xx_json(client: httpx.AsyncClient, path: str, status: int, code: str) -> None:
    response = await client.get(path)
    assert response.status_code == status
    body = response.json()
    assert body["error"] == code
    assert body["message"]


async def test_etag_revalidation(client: httpx.AsyncClient) -> None:
    first = await client.get("/v1/creators/x/alice")
    etag = first.headers["etag"]
    again = await client.get("/v1/creators/x/alice", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""


async def test_cors_only_for_the_extension(client: httpx.AsyncClient) -> None:
    ok = await client.get("/v1/health", headers={"Origin": "chrome-extension://abc"})
    assert ok.headers["access-control-allow-origin"] == "chrome-extension://abc"
    other = await client.get("/v1/health", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in other.headers
    preflight = await client.options(
        "/v1/health", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"}
    )
    assert preflight.status_code == 403


async def test_the_default_cors_origin_is_our_extension_only(db_url: str) -> None:
    """By default CORS names the extension's own ID, which its manifest key fixes; other extensions get nothing."""
    manifest = json.loads((Path(__file__).parents[2] / "extension" / "manifest.json").read_text())
    digest = hashlib.sha256(base64.b64decode(manifest["key"])).hexdigest()[:32]
    assert "".join(chr(ord("a") + int(c, 16)) for c in digest) == EXTENSION_ID  # how Chromium derives the ID
    app = create_app(ApiSettings(), database_url=db_url)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as http,
    ):
        ours = await http.get("/metrics", headers={"Origin": f"chrome-extension://{EXTENSION_ID}"})
        assert ours.headers["access-control-allow-origin"] == f"chrome-extension://{EXTENSION_ID}"
        theirs = await http.get("/metrics", headers={"Origin": "chrome-extension://" + "a" * 32})
        assert "access-control-allow-origin" not in theirs.headers


async def test_rate_limit_answers_429_with_retry_after(client: httpx.AsyncClient) -> None:
    statuses = [(await client.get("/v1/health")).status_code for _ in range(45)]
    assert statuses[:40] == [200] * 40
    limited = await client.get("/v1/health")
    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) >= 1
    assert limited.json()["error"] == "rate_limited"


async def test_a_warehouse_that_goes_away_is_a_503_and_health_says_down(
    db_url: str, db_pool: asyncpg.Pool, pg_admin_url: str
) -> None:
    await seed(db_pool)
    await db_pool.close()
    app = create_app(ApiSettings(), database_url=db_url)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as http,
    ):
        assert (await http.get("/v1/health")).json()["database"] == "ok"
        admin = await asyncpg.connect(pg_admin_url)
        try:  # the database disappears under the running API
            await admin.execute(f'DROP DATABASE "{db_url.rsplit("/", 1)[1]}" WITH (FORCE)')
        finally:
            await admin.close()
        await asyncio.sleep(0.6)  # past the API's half-second cache of the cursor
        health = (await http.get("/v1/health")).json()
        assert (health["status"], health["database"], health["as_of"]) == ("down", "down", None)
        creator = await http.get("/v1/creators/x/alice")
        assert creator.status_code == 503 and creator.headers["retry-after"] == "5"
        assert creator.json()["error"] == "database_unavailable" and creator.json()["message"]
