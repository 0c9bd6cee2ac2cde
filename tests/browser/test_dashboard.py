"""The Dash app in Debian's Chromium (Playwright) on a warehouse filled by the real indexer from simulated
traffic and by the real jobs: the admin logs in, filters the anomaly queue and acknowledges one (it
persists, with who); a creator opens a one-time link and sees their own totals, chart and gifts, downloads
a statement that matches the warehouse, and reaches nothing else; a wallet signature signs a creator in."""

from __future__ import annotations

import csv
import io
import re
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import base58
import httpx
import pytest
from conftest import free_port
from indexer_harness import local_chain, simulate_and_index
from playwright.async_api import async_playwright
from solders.keypair import Keypair
from werkzeug.serving import make_server

from dashboards.app import create_app
from dashboards.auth import make_link_token, sign_in_message
from dashboards.settings import DEV_ADMIN_PASSWORD, DashboardSettings
from warehouse.jobs.runner import JobContext, run_jobs
from warehouse.jobs.settings import JobSettings
from warehouse.queries import dashboard as q
from warehouse.settings import CHECKOUT_ROOT

SCREENSHOTS = CHECKOUT_ROOT / "docs" / "screenshots" / "dashboard"
CHROMIUM = "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed")


@dataclass
class Served:
    url: str
    settings: DashboardSettings
    pool: asyncpg.Pool
    app: Any


@pytest.fixture
async def served(db_url: str, db_pool: asyncpg.Pool) -> AsyncIterator[Served]:
    async with local_chain(slot_ms=40, finality_depth=4) as net:
        await simulate_and_index(net, db_url, db_pool, seed=71)
        results = await run_jobs(JobContext(db_pool, JobSettings(rpc_url=net.rpc_url)))
        assert [r.error for r in results] == [None] * len(results)
    settings = DashboardSettings()
    app = create_app(settings, database_url=db_url)
    port = free_port()
    server = make_server("127.0.0.1", port, app.server, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Served(f"http://127.0.0.1:{port}", settings, db_pool, app)
    finally:
        server.shutdown()
        app.server.extensions["memefans_warehouse"].close()


def sol(lamports: int) -> str:
    return f"{lamports / 10**9:,.4f} SOL"


async def test_the_admin_triages_the_anomaly_queue(served: Served) -> None:
    async with served.pool.acquire() as conn:
        total = await conn.fetchval("SELECT count(*) FROM anomalies")
        high = await conn.fetchval("SELECT count(*) FROM anomalies WHERE severity = 'high'")
    assert total > high > 0
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        page = await browser.new_page()
        await page.goto(served.url + "/admin/anomalies")
        await page.locator("#denied").wait_for()  # not logged in: nothing to see
        await page.goto(served.url + "/login")
        await page.fill("input[name=user]", "admin")
        await page.fill("input[name=password]", "wrong")
        await page.click("button[type=submit]")
        assert "Wrong user or password" in await page.content()
        await page.fill("input[name=user]", "admin")
        await page.fill("input[name=password]", DEV_ADMIN_PASSWORD)
        await page.click("button[type=submit]")
        table = page.locator("#anomalies-table")
        await table.locator("tbody tr").nth(1).wait_for()
        await page.wait_for_function(
            f"document.querySelectorAll('#anomalies-table td[data-dash-column=id]').length >= {min(total, 15)}"
        )
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(SCREENSHOTS / "admin-anomalies.png"), full_page=True)

        # filter: high only
        await page.click("#filter-severity")
        await page.get_by_role("option", name="high", exact=True).click()
        await page.wait_for_function(
            "[...document.querySelectorAll('#anomalies-table td[data-dash-column=severity]')]"
            ".every(td => td.textContent.trim() === 'high')"
        )
        shown = await page.locator("#anomalies-table td[data-dash-column=severity]").count()
        assert shown == min(high, 15)

        # acknowledge the first one: it persists, with who
        first_id = int(await page.locator("#anomalies-table td[data-dash-column=id]").first.inner_text())
        await page.locator("#anomalies-table input[type=radio]").first.check()
        await page.locator("#evidence").filter(has_text="signatures").wait_for()
        await page.click("#act-acknowledged")
        await page.locator("#act-result").filter(has_text=f"anomaly {first_id}: acknowledged by admin").wait_for()
        await page.goto(served.url + "/admin/health")
        await page.locator("#jobs-table").wait_for()
        await page.screenshot(path=str(SCREENSHOTS / "admin-health.png"), full_page=True)
        await page.goto(served.url + "/admin/platform")
        await page.locator("#kpi-chart .main-svg").first.wait_for()
        async with served.pool.acquire() as conn:  # the batch payouts the simulator made, as the warehouse has them
            paid = await conn.fetch(
                "SELECT signature, count(DISTINCT creator) AS n, sum(amount) AS total FROM withdrawals "
                "WHERE by_admin GROUP BY signature"
            )
        assert paid, "the simulation made no batch payout"
        shown = page.locator("#batches-table td[data-dash-column=total]")
        await shown.first.wait_for()
        assert sorted([await shown.nth(i).inner_text() for i in range(await shown.count())]) == sorted(
            str(int(r["total"])) for r in paid
        )
        await page.screenshot(path=str(SCREENSHOTS / "admin-platform.png"), full_page=True)
        await browser.close()
    async with served.pool.acquire() as conn:
        row = await conn.fetchrow("SELECT status, acted_by, acted_at FROM anomalies WHERE id = $1", first_id)
    assert (row["status"], row["acted_by"]) == ("acknowledged", "admin") and row["acted_at"] is not None


async def test_a_creator_sees_their_own_page_and_nothing_else(served: Served, tmp_path: Path) -> None:
    async with served.pool.acquire() as conn:
        # more gifts than a page holds for the busiest creator, so that paging and sorting are put to work
        await conn.execute(
            "INSERT INTO gifts SELECT 'P' || n || left(signature, 80), ix_path, event_index, slot + n, tx_index, "
            "block_time + make_interval(secs => n), commitment, creator, fan, mint, amount + n, fee, post_id, memo, "
            "derived FROM (SELECT * FROM gifts WHERE mint IS NULL AND creator = (SELECT creator FROM gifts "
            "GROUP BY creator ORDER BY count(*) DESC LIMIT 1) LIMIT 1) g, generate_series(1, 30) n"
        )
        await conn.execute(  # and two token gifts, so that its token totals show
            "INSERT INTO gifts SELECT 'T' || n || left(g.signature, 80), g.ix_path, g.event_index, g.slot, g.tx_index, "
            "g.block_time, g.commitment, b.creator, g.fan, g.mint, g.amount, g.fee, g.post_id, g.memo, g.derived "
            "FROM (SELECT * FROM gifts WHERE mint IS NOT NULL LIMIT 1) g, generate_series(1, 2) n, "
            "(SELECT creator FROM gifts GROUP BY creator ORDER BY count(*) DESC LIMIT 1) b"
        )
        mine, other = await conn.fetch(
            "SELECT creator, handle, gifted, gift_count FROM creator_balances WHERE gift_count > 0 "
            "ORDER BY gift_count DESC LIMIT 2"
        )
    link = make_link_token(served.settings.secret_key, mine["creator"], 600)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        context = await browser.new_context(accept_downloads=True)
        page = await context.new_page()
        await page.goto(f"{served.url}/auth/link/{link}")
        await page.locator("#creator-title").filter(has_text=f"@{mine['handle']}").wait_for()
        assert await page.locator("#total-gifted").inner_text() == sol(int(mine["gifted"]))
        assert await page.locator("#gift-count").inner_text() == str(mine["gift_count"])
        await page.locator("#earnings-chart .main-svg").first.wait_for()
        assert await page.locator("#gifts-table a[href*='explorer.solana.com/tx/']").count() >= 1
        async with served.pool.acquire() as conn:
            payouts = await conn.fetchval(
                "SELECT count(*) FROM withdrawals WHERE creator = $1 AND mint IS NULL", mine["creator"]
            )
        async with served.pool.acquire() as conn:
            tokens = await conn.fetch(
                "SELECT mint, sum(amount) AS gifted, count(*) AS n FROM gifts WHERE creator = $1 AND mint IS NOT NULL "
                "GROUP BY mint", mine["creator"],
            )  # fmt: skip
        assert len(tokens) == 1 and await page.locator("#token-totals tr[data-mint]").count() == len(tokens)
        for t in tokens:  # each token the creator was gifted, in exact base units
            cells = await page.locator(f"#token-totals tr[data-mint='{t['mint']}'] td").all_inner_texts()
            assert (cells[1], cells[5]) == (f"{int(t['gifted']):,}", str(t["n"]))
        totals = await page.locator("#payout-totals").inner_text()  # as the analytics job summed them
        assert (f"SOL: {payouts} payouts" in totals) if payouts else ("SOL:" not in totals)

        # the gifts table pages and sorts in the database, over all the creator's gifts
        async with served.pool.acquire() as conn:
            newest = [r["signature"] for r in await conn.fetch(
                "SELECT signature FROM gifts WHERE creator = $1 ORDER BY slot DESC, signature, ix_path, event_index",
                mine["creator"],
            )]  # fmt: skip
            biggest = await conn.fetchval("SELECT max(amount) FROM gifts WHERE creator = $1", mine["creator"])
        assert len(newest) > 20

        async def shown() -> list[str]:
            links = page.locator("#gifts-table td[data-dash-column=signature] a")
            return [(await links.nth(i).get_attribute("href") or "").split("/tx/")[1].split("?")[0]
                    for i in range(await links.count())]  # fmt: skip

        assert await shown() == newest[:20]
        assert (
            "/ " + str(-(-len(newest) // 20))
            in await page.locator("#gifts-table .previous-next-container").inner_text()
        )
        await page.locator("#gifts-table button.next-page").click()
        await page.wait_for_function(
            "(s) => document.querySelector('#gifts-table td[data-dash-column=signature] a').href.includes(s)",
            arg=newest[20],
        )
        assert await shown() == newest[20:40]
        await page.locator("#gifts-table th[data-dash-column=amount] .column-header--sort").click()
        await page.locator("#gifts-table th[data-dash-column=amount] .column-header--sort").click()  # descending
        first_amount = page.locator("#gifts-table td[data-dash-column=amount]").first
        await page.wait_for_function(
            "(v) => document.querySelector('#gifts-table td[data-dash-column=amount]').innerText.trim() === v",
            arg=str(int(biggest)),
        )
        assert await first_amount.inner_text() == str(int(biggest))
        await page.screenshot(path=str(SCREENSHOTS / "creator.png"), full_page=True)

        # the statement: the CSV has exactly the warehouse's rows for the period
        async with page.expect_download() as waiting:
            await page.click("#download-button")
        download = await waiting.value
        saved = tmp_path / "statement.csv"
        await download.save_as(saved)
        lines = list(csv.DictReader(io.StringIO(saved.read_text())))
        today = date.today()
        statement = await q.statement(served.pool, mine["creator"], today - timedelta(days=90), today)
        assert [line["signature"] for line in lines] == [r["signature"] for r in statement]
        assert sum(int(line["amount"]) for line in lines if line["kind"] == "gift") == sum(
            int(r["amount"]) for r in statement if r["kind"] == "gift"
        )

        # the banner: hidden while the indexer keeps up, shown once it has not written its cursor for 2 minutes
        async with served.pool.acquire() as conn:
            await conn.execute("UPDATE cursors SET updated_at = now(), details = details || '{\"lag_seconds\": 0}'")
        await page.reload()
        await page.locator("#creator-title").wait_for()
        assert await page.locator("#lag-banner").is_hidden()
        async with served.pool.acquire() as conn:
            await conn.execute("UPDATE cursors SET updated_at = now() - interval '120 seconds'")
        await page.reload()
        banner = page.locator("#lag-banner")
        await banner.wait_for()
        assert re.fullmatch(r"The indexer is 1[23]\d s behind the chain: .*", await banner.inner_text())

        # nothing else: another creator's page cannot be asked for, admin pages are closed, a link works once
        await page.goto(f"{served.url}/creator?creator={other['creator']}")
        await page.locator("#creator-title").filter(has_text=f"@{mine['handle']}").wait_for()
        await page.goto(served.url + "/admin/anomalies")
        await page.locator("#denied").wait_for()
        reuse = await context.new_page()
        response = await reuse.goto(f"{served.url}/auth/link/{link}")
        assert response is not None and response.status == 403
        await browser.close()


async def test_a_wallet_signature_signs_a_creator_in(served: Served) -> None:
    wallet = Keypair()
    creator = await _bind_first_creator(served.pool, str(wallet.pubkey()))
    client = served.app.server.test_client()
    nonce = client.get("/auth/nonce").get_json()
    assert nonce["message"] == sign_in_message(nonce["nonce"]).decode()
    bad = base58.b58encode(b"x" * 64).decode()
    forged = client.post("/auth/wallet", json={"pubkey": str(wallet.pubkey()), "signature": bad})
    assert forged.status_code == 403 and forged.get_json()["error"] == "bad_signature"
    nonce = client.get("/auth/nonce").get_json()
    signature = wallet.sign_message(sign_in_message(nonce["nonce"]))
    signed = client.post("/auth/wallet", json={"pubkey": str(wallet.pubkey()), "signature": str(signature)})
    assert signed.status_code == 200 and signed.get_json() == {"creator": creator}
    replay = client.post("/auth/wallet", json={"pubkey": str(wallet.pubkey()), "signature": str(signature)})
    assert replay.status_code == 403  # the nonce is spent


async def _bind_first_creator(pool: asyncpg.Pool, wallet: str) -> str:
    async with pool.acquire() as conn:
        creator: str = await conn.fetchval("SELECT creator FROM creators ORDER BY creator LIMIT 1")
        await conn.execute(
            "INSERT INTO creator_bindings (signature, ix_path, event_index, slot, commitment, creator, authority, "
            "verifier) VALUES ('bind-test', '0', 0, 999999999, 'finalized', $1, $2, $2)",
            creator,
            wallet,
        )
    return creator


def _callback(outputs: list[tuple[str, str]], inputs: list[tuple[str, str, Any]], **extra: Any) -> dict[str, Any]:
    """The body Dash's renderer posts to /_dash-update-component, built by hand as an attacker would."""
    ids = [{"id": i, "property": p} for i, p in outputs]
    return {
        "output": f"{outputs[0][0]}.{outputs[0][1]}"
        if len(outputs) == 1
        else ".." + "...".join(f"{i}.{p}" for i, p in outputs) + "..",
        "outputs": ids[0] if len(ids) == 1 else ids,
        "inputs": [{"id": i, "property": p, "value": v} for i, p, v in inputs],
        "changedPropIds": [f"{i}.{p}" for i, p, _ in inputs[:1]],
        **extra,
    }


async def test_callbacks_answer_only_from_the_session_never_from_the_request(served: Served) -> None:
    """Posting Dash callbacks directly: a creator's statement and chart are theirs whatever the request
    says; an anomaly verdict or its evidence is refused to a creator and to a stranger."""
    async with served.pool.acquire() as conn:
        mine, other = await conn.fetch(
            "SELECT creator, gift_count FROM creator_balances WHERE gift_count > 0 ORDER BY gift_count DESC LIMIT 2"
        )
        anomaly = await conn.fetchrow("SELECT id, status FROM anomalies ORDER BY id LIMIT 1")
    assert anomaly is not None
    today = date.today()
    start, end = (today - timedelta(days=90)).isoformat(), today.isoformat()
    statement = _callback(
        [("statement", "data")],
        [("download-button", "n_clicks", 1)],
        state=[
            {"id": "period", "property": "start_date", "value": start},
            {"id": "period", "property": "end_date", "value": end},
        ],
    )
    verdict = _callback(
        [("anomalies-table", "data"), ("act-result", "children")],
        [
            ("act-acknowledged", "n_clicks", 1),
            ("filter-severity", "value", None),
            ("filter-rule", "value", None),
            ("filter-status", "value", None),
            ("act-resolved", "n_clicks", None),
            ("act-false_positive", "n_clicks", None),
        ],
        state=[
            {"id": "anomalies-table", "property": "selected_rows", "value": [0]},
            {"id": "anomalies-table", "property": "data", "value": [{"id": anomaly["id"]}]},
            {"id": "act-note", "property": "value", "value": "not an admin"},
        ],
    )
    evidence = _callback(
        [("evidence", "children")],
        [("anomalies-table", "selected_rows", [0])],
        state=[{"id": "anomalies-table", "property": "data", "value": [{"id": anomaly["id"]}]}],
    )
    async with httpx.AsyncClient(base_url=served.url) as stranger:
        for body in (statement, verdict, evidence):
            reply = await stranger.post("/_dash-update-component", json=body)
            assert reply.status_code in (200, 204), reply.text
            assert "signature" not in reply.text  # no statement row, no evidence
    link = make_link_token(served.settings.secret_key, mine["creator"], 600)
    async with httpx.AsyncClient(base_url=served.url) as creator:
        assert (await creator.get(f"/auth/link/{link}")).status_code in (200, 302)
        # the statement is the session's creator's, never another's: there is no input to name one
        reply = await creator.post("/_dash-update-component", json=statement)
        assert reply.status_code == 200, reply.text
        content = reply.json()["response"]["statement"]["data"]["content"]
        rows = list(csv.DictReader(io.StringIO(content)))
        expected = await q.statement(served.pool, mine["creator"], today - timedelta(days=90), today)
        theirs = await q.statement(served.pool, other["creator"], today - timedelta(days=90), today)
        assert [r["signature"] for r in rows] == [r["signature"] for r in expected] and rows
        assert not {r["signature"] for r in theirs if r["kind"] == "gift"} & {r["signature"] for r in rows}
        # an admin's verdict and evidence are refused to a creator, and nothing changes
        reply = await creator.post("/_dash-update-component", json=verdict)
        assert reply.status_code == 200 and "admins only" in reply.text
        assert "not an admin" not in reply.text
        reply = await creator.post("/_dash-update-component", json=evidence)
        assert reply.status_code in (200, 204) and "signatures" not in reply.text
    async with served.pool.acquire() as conn:
        after = await conn.fetchrow("SELECT status, acted_by FROM anomalies WHERE id = $1", anomaly["id"])
    assert after["status"] == anomaly["status"] and after["acted_by"] is None
