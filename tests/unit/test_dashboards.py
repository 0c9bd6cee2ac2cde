"""The dashboard's pure parts: figures from frames, the statement CSV, table cells, passwords, login links
and wallet signatures."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pandas as pd
import pytest
from solders.keypair import Keypair

from dashboards import auth
from dashboards.figures.earnings import earnings_figure, kpi_figure, resample_earnings
from dashboards.pages.creator import cell, statement_csv

DAILY = pd.DataFrame(
    [(date(2026, 3, 2), 10**9, 5 * 10**8, 3), (date(2026, 3, 3), 2 * 10**9, 0, 1), (date(2026, 4, 1), 7, 0, 1)],
    columns=["day", "settled_net", "pending_net", "gift_count"],
)


def test_earnings_resample_by_week_and_month_keep_exact_sums() -> None:
    weeks = resample_earnings(DAILY, "week")
    got = zip(weeks["period"], weeks["settled_net"], weeks["gift_count"], strict=True)
    assert [(str(p.date()), s, n) for p, s, n in got] == [("2026-03-02", 3 * 10**9, 4), ("2026-03-30", 7, 1)]
    months = resample_earnings(DAILY, "month")
    assert list(months["pending_net"]) == [5 * 10**8, 0]
    with pytest.raises(ValueError, match="granularity"):
        resample_earnings(DAILY, "year")


def test_the_earnings_figure_stacks_settled_and_pending_in_sol() -> None:
    figure = earnings_figure(resample_earnings(DAILY, "day"))
    settled, pending = figure.data
    assert (settled.name, pending.name) == ("settled", "pending")
    assert list(settled.y) == [1.0, 2.0, 7e-9] and list(pending.y) == [0.5, 0.0, 0.0]
    assert figure.layout.barmode == "stack"
    empty = earnings_figure(resample_earnings(DAILY.iloc[0:0], "day"))
    assert [len(trace.x) for trace in empty.data] == [0, 0]


def test_the_kpi_figure_has_volume_fees_and_activity() -> None:
    columns = ["day", "volume_lamports", "fees_lamports", "gift_count", "active_fans", "active_creators",
               "vault_value_lamports"]  # fmt: skip
    kpis = pd.DataFrame([(date(2026, 3, 2), 3 * 10**9, 75_000_000, 4, 3, 2, 2_925_000_000)], columns=columns)
    names = [trace.name for trace in kpi_figure(kpis).data]
    assert names == ["volume (SOL)", "fees (SOL)", "active fans", "active creators", "value in vaults (SOL)"]
    assert list(kpi_figure(kpis).data[0].y) == [3.0]
    assert list(kpi_figure(kpis).data[4].y) == [2.925]


def test_the_statement_csv_writes_exact_integers() -> None:
    rows = [{"block_time": "t", "kind": "gift", "signature": "s", "counterparty": "f", "mint": "",
             "amount": Decimal("3E+8"), "fee": Decimal(7500000), "net": Decimal(292500000), "post_id": "p",
             "commitment": "finalized"}]  # fmt: skip
    lines = statement_csv(rows).splitlines()
    assert lines[0] == "block_time,kind,signature,counterparty,mint,amount,fee,net,post_id,commitment"
    assert lines[1] == "t,gift,s,f,,300000000,7500000,292500000,p,finalized"
    assert (cell(Decimal("1.2E+9")), cell(None), cell("x")) == ("1200000000", "", "x")


def test_passwords_and_links() -> None:
    stored = auth.hash_password("hunter2")
    assert auth.verify_password("hunter2", stored) and not auth.verify_password("hunter3", stored)
    assert not auth.verify_password("hunter2", "garbage")
    used: set[str] = set()
    token = auth.make_link_token("k", "CreatorPda", 60, now=1_000)
    assert auth.read_link_token("k", token, used, now=1_010) == "CreatorPda"
    with pytest.raises(auth.LinkError, match="used already"):
        auth.read_link_token("k", token, used, now=1_010)
    with pytest.raises(auth.LinkError, match="expired"):
        auth.read_link_token("k", auth.make_link_token("k", "C", 60, now=1_000), used, now=2_000)
    with pytest.raises(auth.LinkError, match="forged"):
        auth.read_link_token("other-key", auth.make_link_token("k", "C", 60, now=1_000), used, now=1_010)
    with pytest.raises(auth.LinkError, match="malformed"):
        auth.read_link_token("k", "%%%", used)


def test_wallet_signatures() -> None:
    wallet = Keypair()
    signature = bytes(wallet.sign_message(auth.sign_in_message("n1")))
    assert auth.verify_wallet_signature(str(wallet.pubkey()), "n1", signature)
    assert not auth.verify_wallet_signature(str(wallet.pubkey()), "n2", signature)  # another nonce
    assert not auth.verify_wallet_signature(str(Keypair().pubkey()), "n1", signature)  # another wallet
    assert not auth.verify_wallet_signature("not-a-key", "n1", signature)


def test_the_health_page_shows_the_latest_reconciliation_verdict_and_its_age() -> None:
    from dashboards.pages.admin import reconciliation_summary

    def status(
        verdict: dict[str, object] | None, age: float | None, last: dict[str, object] | None
    ) -> dict[str, object]:
        return {"verdict": verdict, "age_seconds": age, "last_run": last}

    match = {"verdict": "match", "slot": 1234, "vaults": 7, "mismatches": 0}
    ran = {"started_at": "t0", "failed": False, "notes": {"verdict": "match", "slot": 1234}}
    assert reconciliation_summary(status(match, 40.2, ran)) == "match at slot 1234, 40 s ago (7 vaults)"
    bad = {"verdict": "mismatch", "slot": 91, "vaults": 8, "mismatches": 2}
    assert reconciliation_summary(status(bad, 3, ran)) == "mismatch at slot 91, 3 s ago (8 vaults, 2 differ)"
    # a run that gave no verdict says why, beside the latest verdict there is
    skipped = {"started_at": "t1", "failed": False, "notes": {"verdict": "skipped", "reason": "cursor behind"}}
    assert reconciliation_summary(status(match, 75, skipped)) == (
        "match at slot 1234, 75 s ago (7 vaults); the last run skipped: cursor behind"
    )
    assert reconciliation_summary(status(None, None, skipped)) == "the last run skipped: cursor behind"
    failed = {"started_at": "t2", "failed": True, "notes": None}
    assert reconciliation_summary(status(match, 9, failed)).endswith("; the last run failed at t2")
    assert reconciliation_summary(status(None, None, None)) == "not run yet"
