"""The Chrome extension in a real Chromium (Debian's, driven by Playwright), against the whole stack: the
local chain with simulated traffic, the indexer, the API served by uvicorn. Pages that mimic X's and
YouTube's markup get badges with the indexed totals; a new gift changes the badge once it is indexed;
the popup shows the wallet's history; the options page keeps its settings and refuses bad input."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import uvicorn
from conftest import free_port
from indexer_harness import local_chain, settings_for, simulate, wait_until_indexed
from playwright.async_api import BrowserContext, Page, Worker, async_playwright
from solders.hash import Hash
from solders.keypair import Keypair
from solders.message import Message
from solders.transaction import VersionedTransaction

from api.app import create_app
from api.settings import EXTENSION_ID, ApiSettings
from indexer.cli import run as run_indexer
from programs.gift_pool import client as gp
from programs.localnet.genesis import dev_keys
from programs.localnet.server import Localnet
from warehouse.settings import CHECKOUT_ROOT

EXTENSION = CHECKOUT_ROOT / "extension"
SCREENSHOTS = CHECKOUT_ROOT / "docs" / "screenshots" / "extension"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed")


def x_page(handle: str, late_handle: str) -> str:
    """A profile page and a timeline the way X marks them up (data-testid), one tweet arriving late."""
    return f"""<!doctype html><html><body>
<div data-testid="UserName"><div><span>{handle}</span></div><div><span>@{handle}</span></div></div>
<article data-testid="tweet"><div data-testid="User-Name"><a href="/{handle}" role="link"><span>{handle}</span></a>
<a href="/{handle}/status/1"><span>@{handle}</span></a></div><div data-testid="tweetText">gm</div></article>
<div id="timeline"></div>
<script>setTimeout(() => document.getElementById("timeline").insertAdjacentHTML("beforeend",
 '<article data-testid="tweet"><div data-testid="User-Name"><a href="/{late_handle}" role="link">'
 + '<span>late</span></a></div></article>'), 400);</script>
</body></html>"""


def youtube_page(handle: str) -> str:
    return f"""<!doctype html><html><body><div id="owner">
<ytd-channel-name><a class="yt-simple-endpoint" href="/@{handle}">{handle}</a></ytd-channel-name>
</div></body></html>"""


def sol(lamports: int) -> str:
    whole, fraction = divmod(lamports, 10**9)
    text = f"{fraction:09d}"[:4].rstrip("0")
    return f"{whole}.{text} SOL" if text else f"{whole} SOL"


@dataclass
class Stack:
    net: Localnet
    api: str
    truth: dict[str, Any]
    pool: asyncpg.Pool


@pytest.fixture
async def stack(db_url: str, db_pool: asyncpg.Pool) -> AsyncIterator[Stack]:
    async with local_chain(slot_ms=60, finality_depth=6) as net:
        truth = await simulate(net, seed=51, duration=1.5)
        indexer = asyncio.create_task(run_indexer(settings_for(net), database_url=db_url))
        port = free_port()
        app = create_app(ApiSettings(rpc_url=net.rpc_url), database_url=db_url)
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
        serving = asyncio.create_task(server.serve())
        try:
            await wait_until_indexed(db_pool, net, finalized=False)
            for _ in range(100):
                if server.started:
                    break
                await asyncio.sleep(0.05)
            yield Stack(net, f"http://127.0.0.1:{port}", truth, db_pool)
        finally:
            server.should_exit = True
            await serving
            indexer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await indexer


@pytest.fixture
async def browser(stack: Stack, tmp_path: Path) -> AsyncIterator[tuple[BrowserContext, Worker]]:
    async with async_playwright() as playwright:
        context = await playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"),
            executable_path=CHROMIUM,
            headless=True,
            args=[f"--disable-extensions-except={EXTENSION}", f"--load-extension={EXTENSION}", "--no-sandbox"],
        )
        try:
            worker = (
                context.service_workers[0] if context.service_workers else await context.wait_for_event("serviceworker")
            )
            await worker.evaluate("(s) => chrome.storage.local.set(s)", {"apiUrl": stack.api, "refreshSeconds": 1})
            yield context, worker
        finally:
            await context.close()


async def creator_total(stack: Stack, platform: str, handle: str) -> int:
    async with stack.pool.acquire() as conn:
        value = await conn.fetchval(
            "SELECT gifted FROM creator_balances WHERE platform = $1 AND handle = $2", platform, handle
        )
    return int(value)


def gifted_creator(stack: Stack, platform: str) -> dict[str, Any]:
    return next(c for c in stack.truth["creators"] if c["platform"] == platform and c["gift_count"] > 0)


async def badge_text(page: Page, handle: str) -> str:
    badge = page.locator(f'.memefans-badge[data-handle="{handle}"]').first
    await badge.wait_for(state="attached", timeout=10_000)
    await page.wait_for_function(
        "(h) => { const b = document.querySelector(`.memefans-badge[data-handle='${h}']`);"
        " return b && b.dataset.state !== 'loading'; }",
        arg=handle,
        timeout=10_000,
    )
    return (await badge.locator(".memefans-total").inner_text()).strip()


async def test_badges_show_the_indexed_totals_and_follow_new_gifts(
    stack: Stack, browser: tuple[BrowserContext, Worker]
) -> None:
    context, _ = browser
    on_x = gifted_creator(stack, "x")
    on_youtube = gifted_creator(stack, "youtube")
    late = next(c for c in stack.truth["creators"] if c["platform"] == "x" and c["handle"] != on_x["handle"])
    await context.route(
        "https://x.com/**",
        lambda route: route.fulfill(body=x_page(on_x["handle"], late["handle"]), content_type="text/html"),
    )
    await context.route(
        "https://www.youtube.com/**",
        lambda route: route.fulfill(body=youtube_page(on_youtube["handle"]), content_type="text/html"),
    )

    page = await context.new_page()
    await page.goto(f"https://x.com/{on_x['handle']}")
    total = await creator_total(stack, "x", on_x["handle"])
    assert total == on_x["gifted"]
    text = await badge_text(page, on_x["handle"])
    assert text.startswith(f"🎁 {sol(total)} · {on_x['gift_count']} gift")
    assert await page.locator(f'.memefans-badge[data-handle="{on_x["handle"]}"]').count() == 2  # header and tweet
    href = await page.locator(".memefans-gift").first.get_attribute("href")
    assert href is not None and "solana-action%3A" in href and f"gift%2Fx%2F{on_x['handle']}" in href
    assert (await badge_text(page, late["handle"])).startswith("🎁")  # the tweet that arrived later got one too
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / "x-profile.png"))

    # a new gift lands on the chain; once indexed, the badge shows it (refresh every second in this test)
    chain = stack.net.chain
    fan = Keypair()
    chain.airdrop(fan.pubkey(), 10**10)
    ix = gp.gift_sol_ix(fan.pubkey(), "x", on_x["handle"], 2 * 10**9, "post-9", "from the browser test",
                        dev_keys().treasury.pubkey())  # fmt: skip
    message = Message.new_with_blockhash([ix], fan.pubkey(), Hash.from_string(chain.latest_blockhash))
    assert chain.send(VersionedTransaction(message, [fan])).err is None
    expected = f"🎁 {sol(total + 2 * 10**9)} · {on_x['gift_count'] + 1} gifts"
    await page.wait_for_function(
        "(want) => [...document.querySelectorAll('.memefans-total')].some(e => e.textContent.trim() === want)",
        arg=expected,
        timeout=15_000,
    )

    tube = await context.new_page()
    await tube.goto(f"https://www.youtube.com/@{on_youtube['handle']}")
    total = await creator_total(stack, "youtube", on_youtube["handle"])
    assert (await badge_text(tube, on_youtube["handle"])).startswith(f"🎁 {sol(total)}")
    await tube.screenshot(path=str(SCREENSHOTS / "youtube-channel.png"))


async def test_the_popup_shows_the_wallets_history(stack: Stack, browser: tuple[BrowserContext, Worker]) -> None:
    context, worker = browser
    async with stack.pool.acquire() as conn:
        fan = await conn.fetchval(
            "SELECT fan FROM gifts WHERE mint IS NULL GROUP BY fan ORDER BY count(*) DESC LIMIT 1"
        )
        count = await conn.fetchval("SELECT count(DISTINCT creator) FROM gifts WHERE fan = $1 AND mint IS NULL", fan)
        latest = await conn.fetchval("SELECT signature FROM gifts WHERE fan = $1 ORDER BY slot DESC LIMIT 1", fan)
    await worker.evaluate("(s) => chrome.storage.local.set(s)", {"wallet": fan})
    extension_id = worker.url.split("/")[2]
    assert extension_id == EXTENSION_ID  # the manifest's key fixes it: the API's default CORS origin
    popup = await context.new_page()
    await popup.goto(f"chrome-extension://{extension_id}/popup.html")
    await popup.locator("#creators tbody tr").first.wait_for(timeout=10_000)
    assert await popup.locator("#creators tbody tr").count() == count
    assert await popup.locator(f'#history li[data-signature="{latest}"]').count() == 1
    assert fan[:4] in await popup.locator("#status").inner_text()
    await popup.screenshot(path=str(SCREENSHOTS / "popup.png"))


async def test_the_options_page_keeps_settings_and_refuses_bad_ones(
    stack: Stack, browser: tuple[BrowserContext, Worker]
) -> None:
    context, worker = browser
    extension_id = worker.url.split("/")[2]
    options = await context.new_page()
    await options.goto(f"chrome-extension://{extension_id}/options.html")
    await options.fill("#apiUrl", "http://localhost:9999/some/path")
    await options.fill("#wallet", "not a key")
    await options.click("button[type=submit]")
    assert "base58" in await options.locator("#saved").inner_text()
    await options.fill("#wallet", str(Keypair().pubkey()))
    await options.click("button[type=submit]")
    await options.locator("#saved", has_text="Saved.").wait_for()
    await options.reload()
    await options.wait_for_function("document.getElementById('apiUrl').value !== ''")
    assert await options.input_value("#apiUrl") == "http://localhost:9999"  # kept as an origin
    stored = await worker.evaluate("() => chrome.storage.local.get(null)")
    assert stored["apiUrl"] == "http://localhost:9999"
    await options.screenshot(path=str(SCREENSHOTS / "options.png"))


async def test_the_service_worker_caches_api_answers_for_the_refresh_interval(
    stack: Stack, browser: tuple[BrowserContext, Worker]
) -> None:
    context, worker = browser
    await worker.evaluate("(s) => chrome.storage.local.set(s)", {"refreshSeconds": 300})  # clears the cache too
    creators = [c for c in stack.truth["creators"] if c["platform"] == "x"][:2]
    page = await context.new_page()  # an extension page, to message the worker as the content scripts do
    await page.goto(f"chrome-extension://{worker.url.split('/')[2]}/options.html")

    async def asked() -> int:
        async with httpx.AsyncClient() as http:
            text = (await http.get(stack.api + "/metrics")).text
        return sum(
            int(float(line.rsplit(" ", 1)[1]))
            for line in text.splitlines()
            if line.startswith('memefans_api_requests_total{route="/v1/creators/{platform}/{handle}"')
        )

    async def badge(handle: str) -> dict[str, Any]:
        reply: dict[str, Any] = await page.evaluate(
            "(h) => chrome.runtime.sendMessage({type: 'creator', platform: 'x', handle: h})", handle
        )
        return reply

    before = await asked()
    first = await badge(creators[0]["handle"])
    assert first["result"]["known"] is True and await asked() == before + 1
    await badge(creators[1]["handle"])
    assert await asked() == before + 2  # another creator is another entry
    await asyncio.sleep(5.5)  # past the API's Cache-Control max-age (5 s): only the worker's cache can answer now
    again = [await badge(creators[0]["handle"]) for _ in range(2)]
    assert again == [first, first] and await asked() == before + 2
    await worker.evaluate("(s) => chrome.storage.local.set(s)", {"refreshSeconds": 1})  # a new setting: afresh
    await badge(creators[0]["handle"])
    assert await asked() == before + 3  # asked again (a conditional request, answered 304 or 200)
