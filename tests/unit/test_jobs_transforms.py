"""The analytics transforms and the security rules on small hand-made frames, with exact expected outputs."""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd

from warehouse.jobs import rules, transforms

T0 = pd.Timestamp("2026-01-31T23:00:00Z")


def gifts(rows: list[tuple[Any, ...]]) -> pd.DataFrame:
    """(creator, fan, mint, amount, fee, post_id, hours after T0, commitment)."""
    frame = pd.DataFrame(
        [
            (f"s{i}", c, f, m, a, fee, p, i, T0 + pd.Timedelta(hours=h), k)
            for i, (c, f, m, a, fee, p, h, k) in enumerate(rows)
        ],
        columns=["signature", "creator", "fan", "mint", "amount", "fee", "post_id", "slot", "block_time", "commitment"],
    )
    frame["amount"] = frame["amount"].astype("object")
    frame["fee"] = frame["fee"].astype("object")
    return frame


SAMPLE = gifts([
    ("A", "f1", "", 1_000, 25, "p1", 0, "finalized"),
    ("A", "f2", "", 3_000, 75, "p1", 0.5, "confirmed"),
    ("A", "f1", "", 2_000, 50, "", 2, "finalized"),  # the next day (UTC)
    ("A", "f1", "MEME", 10**19, 10**17, "p2", 2, "finalized"),  # past 2^63: stays an exact int
    ("B", "f2", "", 500, 12, "p9", 3, "finalized"),
])  # fmt: skip


def test_daily_earnings_split_settled_from_pending_per_day_and_mint() -> None:
    out = transforms.daily_earnings(SAMPLE)
    rows = [tuple(r) for r in out.itertuples(index=False)]
    assert rows == [
        ("A", date(2026, 1, 31), "", 1_000, 25, 975, 3_000, 75, 2_925, 2, 2),
        ("A", date(2026, 2, 1), "", 2_000, 50, 1_950, 0, 0, 0, 1, 1),
        ("A", date(2026, 2, 1), "MEME", 10**19, 10**17, 10**19 - 10**17, 0, 0, 0, 1, 1),
        ("B", date(2026, 2, 1), "", 500, 12, 488, 0, 0, 0, 1, 1),
    ]


def test_post_earnings_and_top_supporters() -> None:
    posts = [tuple(r) for r in transforms.post_earnings(SAMPLE).itertuples(index=False)]
    assert posts == [
        ("A", "p1", "", 4_000, 100, 2, 2),
        ("A", "p2", "MEME", 10**19, 10**17, 1, 1),
        ("B", "p9", "", 500, 12, 1, 1),
    ]
    top = transforms.top_supporters(SAMPLE)
    a_sol = top[(top["creator"] == "A") & (top["mint"] == "")]
    assert [(r.fan, r.total, r.gift_count, r.rank) for r in a_sol.itertuples()] == [
        ("f1", 3_000, 2, 1),
        ("f2", 3_000, 1, 2),
    ]


def test_gift_size_buckets_count_every_gift_once() -> None:
    out = transforms.gift_size_buckets(SAMPLE, edges=(0, 1_000, 2_500))
    assert [tuple(r) for r in out.itertuples(index=False)] == [
        ("", 0, 1_000, 1, 500), ("", 1_000, 2_500, 2, 3_000), ("", 2_500, None, 1, 3_000),
        ("MEME", 0, 1_000, 0, 0), ("MEME", 1_000, 2_500, 0, 0), ("MEME", 2_500, None, 1, 10**19),
    ]  # fmt: skip


def test_cohorts_count_repeat_givers_by_month_of_first_gift() -> None:
    out = transforms.supporter_cohorts(SAMPLE)
    platform = out[out["creator"] == ""]
    # f1 and f2 both first gave in January; both gave again in February
    assert [tuple(r) for r in platform.itertuples(index=False)] == [
        ("", date(2026, 1, 1), 0, 2, 1.0), ("", date(2026, 1, 1), 1, 2, 1.0)
    ]  # fmt: skip
    b = out[out["creator"] == "B"]
    assert [tuple(r) for r in b.itertuples(index=False)] == [("B", date(2026, 2, 1), 0, 1, 1.0)]


def test_vault_value_and_platform_kpis() -> None:
    withdrawals = pd.DataFrame(
        [("w1", "A", "", 1_000, T0 + pd.Timedelta(hours=5))],
        columns=["signature", "creator", "mint", "amount", "block_time"],
    )
    values = transforms.vault_value_by_day(SAMPLE, withdrawals)
    assert [tuple(r) for r in values.itertuples(index=False)] == [(date(2026, 1, 31), 3_900), (date(2026, 2, 1), 5_338)]
    kpis = transforms.platform_kpis(SAMPLE, values)
    assert [tuple(r) for r in kpis.itertuples(index=False)] == [
        (date(2026, 1, 31), 4_000, 100, 2, 2, 1, 3_900), (date(2026, 2, 1), 2_500, 62, 3, 2, 2, 5_338)
    ]  # fmt: skip


def test_escrow_ledger_for_unbound_and_bound_handles() -> None:
    creators = pd.DataFrame([("A", "x", "alice"), ("B", "x", "bob")], columns=["creator", "platform", "handle"])
    bindings = pd.DataFrame([("A", T0 + pd.Timedelta(hours=1))], columns=["creator", "block_time"])
    out = transforms.escrow_ledger(SAMPLE, creators, bindings)
    a, b = (tuple(r) for r in out.itertuples(index=False))
    assert a == ("A", "x", "alice", 0, 0, T0, T0 + pd.Timedelta(hours=1), 3_600)
    assert b == ("B", "x", "bob", 488, 1, T0 + pd.Timedelta(hours=3), None, None)


def withdrawals(rows: list[tuple[Any, ...]]) -> pd.DataFrame:
    """(creator, destination, amount, minutes after T0, by_admin)."""
    columns = ["signature", "ix_path", "creator", "authority", "destination", "mint", "amount", "by_admin", "slot",
               "block_time"]  # fmt: skip
    data = [(f"w{i}", "0", c, "auth", d, "", a, admin, i, T0 + pd.Timedelta(minutes=m))
            for i, (c, d, a, m, admin) in enumerate(rows)]  # fmt: skip
    return pd.DataFrame(data, columns=columns)


def test_payouts_per_creator_and_per_batch() -> None:
    columns = ["signature", "ix_path", "creator", "mint", "amount", "by_admin", "slot", "block_time"]
    at = [T0 + pd.Timedelta(minutes=m) for m in range(5)]
    frame = pd.DataFrame(
        [
            ("b1", "0", "A", "", 100, True, 10, at[0]),  # a batch payout of two creators
            ("b1", "0", "B", "", 300, True, 10, at[0]),
            ("w1", "0", "A", "", 10, False, 11, at[1]),  # the creator's own withdrawal
            ("b2", "1", "A", "", 50, True, 12, at[2]),  # a second batch, of one creator
            ("w2", "0", "B", "MEME", 20, False, 13, at[3]),
        ],
        columns=columns,
    )
    frame["amount"] = frame["amount"].astype("object")
    totals = [tuple(r) for r in transforms.payout_totals(frame).itertuples(index=False)]
    assert totals == [
        ("A", "", 3, 160, 2, 150, at[2]),
        ("B", "", 1, 300, 1, 300, at[0]),
        ("B", "MEME", 1, 20, 0, 0, at[3]),
    ]
    batches = [tuple(r) for r in transforms.payout_batches(frame).itertuples(index=False)]
    assert batches == [("b1", "0", "", 2, 400, 300, 10, at[0]), ("b2", "1", "", 1, 50, 50, 12, at[2])]
    assert transforms.payout_batches(frame[~frame["by_admin"]]).empty
    assert transforms.payout_totals(frame.iloc[0:0]).empty


def test_rules_large_withdrawal_new_destination_and_burst() -> None:
    settings = rules.RuleSettings(burst_gifts=3)
    w = withdrawals([("A", "auth", 100, 0, False), ("A", "auth", 110, 1, False), ("A", "auth", 90, 2, False),
                     ("A", "elsewhere", 5_000, 3, False)])  # fmt: skip
    (large,) = rules.large_withdrawals(w, settings)
    assert (large.rule, large.evidence["signatures"], large.creator) == ("large_withdrawal", ["w3"], "A")
    (new,) = rules.new_destination_withdrawals(w, {"A": "auth"})
    assert (new.dedup_key, new.evidence["destination"]) == ("new_destination_withdrawal:w3", "elsewhere")
    burst = gifts([("A", f"f{i}", "", 10, 0, "", i / 60, "finalized") for i in range(3)])
    (found,) = rules.burst_then_withdraw(burst, withdrawals([("A", "auth", 30, 5, False)]), settings)
    assert found.evidence["signatures"] == ["s0", "s1", "s2", "w0"]
    assert rules.burst_then_withdraw(burst, withdrawals([("A", "auth", 30, 600, False)]), settings) == []  # too late


def test_rules_sybil_and_self_gifting_from_funding() -> None:
    funding = pd.DataFrame(
        [(f"fan{i}", "boss", f"fund{i}") for i in range(5)] + [("helper", "dest", "fundh")],
        columns=["wallet", "funder", "funding_signature"],
    )
    g = gifts(
        [("A", f"fan{i}", "", 10, 0, "", 0, "finalized") for i in range(5)]
        + [("B", "helper", "", 10, 0, "", 1, "finalized")]
    )
    (sybil,) = rules.sybil_swarms(g, funding, rules.RuleSettings())
    assert (sybil.creator, sybil.evidence["funder"], len(sybil.evidence["wallets"])) == ("A", "boss", 5)
    assert {"fund0", "s0"} <= set(sybil.evidence["signatures"])
    (loop,) = rules.self_gifting_loops(g, withdrawals([("B", "dest", 100, -60, False)]), funding)
    assert (loop.creator, loop.evidence["signatures"]) == ("B", ["w0", "fundh", "s5"])


def test_rules_unauthorized_admin_and_failure_spike() -> None:
    failed = pd.DataFrame(
        [(f"x{i}", "attacker", "withdraw", "Unauthorized") for i in range(3)] + [("y", "other", "gift_sol", "Paused")],
        columns=["signature", "fee_payer", "instruction", "error_name"],
    )
    (attempts,) = rules.unauthorized_attempts(failed, rules.RuleSettings())
    assert (attempts.dedup_key, attempts.evidence["signatures"]) == (
        "unauthorized_attempts:attacker",
        ["x0", "x1", "x2"],
    )
    admin = pd.DataFrame([("a1", "pause", "admin", {}), ("a2", "rebind", "verifier", {"creator": "A"})],
                         columns=["signature", "kind", "actor", "details"])  # fmt: skip
    found = rules.admin_actions(admin, rules.RuleSettings())
    assert [(a.rule, a.severity, a.creator) for a in found] == [("admin_pause", "high", None), ("rebind", "high", "A")]
    tx = pd.DataFrame(
        [(f"t{i}", i % 4 != 0, T0) for i in range(12)], columns=["signature", "success", "block_time"]
    )  # 3 of 12 failed: no spike
    assert rules.failure_spike(tx, rules.RuleSettings()) == []
    tx["success"] = [i % 4 == 0 for i in range(12)]  # 9 of 12 failed
    (spike,) = rules.failure_spike(tx, rules.RuleSettings())
    assert spike.evidence["failed"] == 9 and spike.evidence["total"] == 12
