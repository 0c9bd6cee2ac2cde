"""The analytics as pure pandas functions: DataFrames of facts in, DataFrames of aggregate rows out.

No I/O and no clock: everything a transform needs is in its arguments, so each is tested on hand-made
frames and a full recompute equals an incremental one (the jobs recompute whole creators). Amounts are
Python ints in `object` columns: a sum of u64 amounts can pass 2^63, and nothing here is ever a float.

The gift frame (`GIFT_COLUMNS`) has one row per gift: creator, fan, mint ('' for SOL), amount, fee,
post_id, slot, block_time (UTC timestamps), commitment.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from typing import cast

import pandas as pd

__all__ = [
    "GIFT_COLUMNS",
    "SIZE_EDGES",
    "daily_earnings",
    "escrow_ledger",
    "gift_size_buckets",
    "payout_batches",
    "payout_summaries",
    "payout_totals",
    "platform_kpis",
    "post_earnings",
    "supporter_cohorts",
    "top_supporters",
    "vault_value_by_day",
]

GIFT_COLUMNS = ("creator", "fan", "mint", "amount", "fee", "post_id", "slot", "block_time", "commitment")
# gift size buckets, in base units: [0, 0.001 SOL), [0.001, 0.01), ... , [100 SOL, no bound)
SIZE_EDGES: tuple[int, ...] = (0, 10**6, 10**7, 10**8, 10**9, 10**10, 10**11)


def _int_sum(values: pd.Series) -> int:
    return int(sum(int(v) for v in values))


def _empty(columns: Sequence[str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="object") for c in columns})


def _out(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """The result in its declared column order, every column `object` (exact ints, None rather than NaN)."""
    result = frame.reset_index()[list(columns)].astype("object")
    return result.where(result.notna(), None).reset_index(drop=True)


def _day(times: pd.Series) -> pd.Series:
    return cast(pd.Series, times.dt.tz_convert("UTC").dt.date)


DAILY_COLUMNS = ("creator", "day", "mint", "settled_gross", "settled_fees", "settled_net", "pending_gross",
                 "pending_fees", "pending_net", "gift_count", "unique_fans")  # fmt: skip


def daily_earnings(gifts: pd.DataFrame) -> pd.DataFrame:
    """Per creator, UTC day and mint: gross, fees and net, settled (finalized) apart from pending."""
    if gifts.empty:
        return _empty(DAILY_COLUMNS)
    settled = gifts["commitment"] == "finalized"
    zero = pd.Series(0, index=gifts.index, dtype="object")
    frame = gifts.assign(
        day=_day(gifts["block_time"]),
        sg=gifts["amount"].where(settled, zero),
        sf=gifts["fee"].where(settled, zero),
        pg=gifts["amount"].where(~settled, zero),
        pf=gifts["fee"].where(~settled, zero),
    )
    out = frame.groupby(["creator", "day", "mint"], sort=True).agg(
        settled_gross=("sg", "sum"), settled_fees=("sf", "sum"), pending_gross=("pg", "sum"),
        pending_fees=("pf", "sum"), gift_count=("fan", "size"), unique_fans=("fan", "nunique"),
    )  # fmt: skip
    out["settled_net"] = out["settled_gross"] - out["settled_fees"]
    out["pending_net"] = out["pending_gross"] - out["pending_fees"]
    return _out(out, DAILY_COLUMNS)


def post_earnings(gifts: pd.DataFrame) -> pd.DataFrame:
    """Per creator, post id and mint: gross, fees, gifts and distinct fans (gifts without a post left out)."""
    columns = ("creator", "post_id", "mint", "gross", "fees", "gift_count", "unique_fans")
    frame = gifts[gifts["post_id"] != ""] if not gifts.empty else gifts
    if frame.empty:
        return _empty(columns)
    out = frame.groupby(["creator", "post_id", "mint"], sort=True).agg(
        gross=("amount", "sum"), fees=("fee", "sum"), gift_count=("fan", "size"), unique_fans=("fan", "nunique")
    )
    return _out(out, columns)


def top_supporters(gifts: pd.DataFrame, limit: int = 10) -> pd.DataFrame:
    """Per creator and mint, the `limit` fans who gave the most (ties: more gifts, then earlier first gift)."""
    columns = ("creator", "mint", "fan", "total", "gift_count", "first_gift_at", "last_gift_at", "rank")
    if gifts.empty:
        return _empty(columns)
    fans = gifts.groupby(["creator", "mint", "fan"], sort=False).agg(
        total=("amount", "sum"), gift_count=("amount", "size"), first_gift_at=("block_time", "min"),
        last_gift_at=("block_time", "max"),
    ).reset_index()  # fmt: skip
    fans = fans.sort_values(
        ["creator", "mint", "total", "gift_count", "first_gift_at", "fan"],
        ascending=[True, True, False, False, True, True],
        kind="stable",
    )
    fans["rank"] = fans.groupby(["creator", "mint"], sort=False).cumcount() + 1
    return _out(fans[fans["rank"] <= limit].set_index("creator"), columns)


def supporter_cohorts(gifts: pd.DataFrame) -> pd.DataFrame:
    """Fans grouped by the month of their first gift (per creator, and '' for the platform); for each later
    month, how many of the cohort gave again, as a count and a share of the cohort."""
    columns = ("creator", "cohort_month", "month_offset", "fans", "repeat_rate")
    if gifts.empty:
        return _empty(columns)
    month = gifts["block_time"].dt.tz_convert("UTC").dt.tz_localize(None).dt.to_period("M")
    base = pd.DataFrame({"creator": gifts["creator"], "fan": gifts["fan"], "month": month})
    frame = pd.concat([base, base.assign(creator="")], ignore_index=True).drop_duplicates()
    first = frame.groupby(["creator", "fan"])["month"].min().rename("cohort")
    active = frame.join(first, on=["creator", "fan"])
    active["offset"] = (active["month"].astype("int64") - active["cohort"].astype("int64")).astype("int64")
    counts = active.groupby(["creator", "cohort", "offset"], sort=True)["fan"].nunique().rename("fans").reset_index()
    sizes = first.reset_index().groupby(["creator", "cohort"])["fan"].nunique().rename("size")
    counts = counts.join(sizes, on=["creator", "cohort"])
    counts["repeat_rate"] = (counts["fans"] / counts["size"]).round(6)
    counts["cohort_month"] = counts["cohort"].map(lambda p: p.to_timestamp().date())
    counts["month_offset"] = counts["offset"]
    return _out(counts.set_index("creator"), columns)


def gift_size_buckets(gifts: pd.DataFrame, edges: Sequence[int] = SIZE_EDGES) -> pd.DataFrame:
    """How many gifts (and how much) fell in each size bucket, per mint; empty buckets are listed too."""
    columns = ("mint", "bucket_lower", "bucket_upper", "gift_count", "total")
    if gifts.empty:
        return _empty(columns)
    bounds = list(edges)
    index = [bisect.bisect_right(bounds, int(a)) - 1 for a in gifts["amount"]]
    frame = pd.DataFrame({"mint": gifts["mint"].to_numpy(), "bucket": index, "amount": gifts["amount"].to_numpy()})
    sums = frame.groupby(["mint", "bucket"]).agg(gift_count=("amount", "size"), total=("amount", "sum"))
    rows = []
    for mint in sorted(frame["mint"].unique()):
        for i, lower in enumerate(bounds):
            upper = bounds[i + 1] if i + 1 < len(bounds) else None
            hit = (mint, i) in sums.index
            count = int(sums.loc[(mint, i), "gift_count"]) if hit else 0
            total = int(sums.loc[(mint, i), "total"]) if hit else 0
            rows.append((mint, lower, upper, count, total))
    return pd.DataFrame(rows, columns=list(columns), dtype="object")


def vault_value_by_day(gifts: pd.DataFrame, withdrawals: pd.DataFrame) -> pd.DataFrame:
    """Lamports held in all vaults at the end of each day: running net gifts minus withdrawals (SOL only)."""
    parts = []
    if not gifts.empty:
        sol = gifts[gifts["mint"] == ""]
        parts.append(pd.DataFrame({"day": _day(sol["block_time"]), "net": sol["amount"] - sol["fee"]}))
    if not withdrawals.empty:
        sol = withdrawals[withdrawals["mint"] == ""]
        parts.append(pd.DataFrame({"day": _day(sol["block_time"]), "net": -sol["amount"]}))
    if not parts:
        return _empty(("day", "vault_value_lamports"))
    moves = pd.concat(parts, ignore_index=True).groupby("day", sort=True)["net"].sum()
    held = moves.cumsum().rename("vault_value_lamports").rename_axis("day").to_frame()
    return _out(held, ("day", "vault_value_lamports"))


def platform_kpis(gifts: pd.DataFrame, vault_value: pd.DataFrame) -> pd.DataFrame:
    """Per UTC day: SOL volume and fees, gifts, active fans and creators, and the value held in vaults at the
    end of the day (`vault_value`: day, vault_value_lamports, from the ledger of gifts and withdrawals)."""
    columns = ("day", "volume_lamports", "fees_lamports", "gift_count", "active_fans", "active_creators",
               "vault_value_lamports")  # fmt: skip
    if gifts.empty:
        return _empty(columns)
    sol = gifts["mint"] == ""
    zero = pd.Series(0, index=gifts.index, dtype="object")
    frame = gifts.assign(
        day=_day(gifts["block_time"]),
        sol_amount=gifts["amount"].where(sol, zero),
        sol_fee=gifts["fee"].where(sol, zero),
    )
    out = frame.groupby("day", sort=True).agg(
        volume_lamports=("sol_amount", "sum"), fees_lamports=("sol_fee", "sum"), gift_count=("fan", "size"),
        active_fans=("fan", "nunique"), active_creators=("creator", "nunique"),
    )  # fmt: skip
    values = dict(zip(vault_value["day"], vault_value["vault_value_lamports"], strict=True))
    out["vault_value_lamports"] = [int(values.get(day, 0)) for day in out.index]
    return _out(out, columns)


def escrow_ledger(gifts: pd.DataFrame, creators: pd.DataFrame, bindings: pd.DataFrame) -> pd.DataFrame:
    """Per creator: SOL waiting for an unbound handle (amount, gifts, the oldest gift's time) and, once bound,
    how long the first binding took from the first gift."""
    columns = ("creator", "platform", "handle", "waiting_amount", "waiting_gifts", "oldest_gift_at", "bound_at",
               "time_to_bind_seconds")  # fmt: skip
    if creators.empty:
        return _empty(columns)
    bound_at = (
        bindings.groupby("creator")["block_time"].min()
        if not bindings.empty
        else pd.Series(dtype="datetime64[ns, UTC]")
    )
    sol = gifts[gifts["mint"] == ""] if not gifts.empty else gifts
    if sol.empty:
        sol = pd.DataFrame(
            {"creator": [], "amount": [], "fee": [], "block_time": pd.Series(dtype="datetime64[ns, UTC]")}
        )
    sol = sol.join(bound_at.rename("bound_at"), on="creator")
    waiting = sol[sol["bound_at"].isna()]
    per_waiting = (
        waiting.assign(net=waiting["amount"] - waiting["fee"])
        .groupby("creator")
        .agg(waiting_amount=("net", "sum"), waiting_gifts=("net", "size"), oldest_unbound=("block_time", "min"))
    )
    before = sol[sol["bound_at"].notna() & (sol["block_time"] <= sol["bound_at"])]
    oldest_before = before.groupby("creator")["block_time"].min().rename("oldest_before")
    out = creators.set_index("creator")[["platform", "handle"]].join(per_waiting).join(bound_at.rename("bound_at"))
    out = out.join(oldest_before)
    out["waiting_amount"] = out["waiting_amount"].map(lambda v: 0 if pd.isna(v) else int(v))
    out["waiting_gifts"] = out["waiting_gifts"].map(lambda v: 0 if pd.isna(v) else int(v))
    out["oldest_gift_at"] = out["oldest_unbound"].where(out["bound_at"].isna(), out["oldest_before"])
    waited = (out["bound_at"] - out["oldest_before"]).dt.total_seconds()
    out["time_to_bind_seconds"] = waited.map(lambda v: None if pd.isna(v) else int(v))
    return _out(out, columns)


def payout_summaries(withdrawals: pd.DataFrame) -> pd.DataFrame:
    """Every payout to a creator: a withdrawal by the creator or by the admin (a batch payout)."""
    columns = ("signature", "ix_path", "creator", "mint", "amount", "by_admin", "slot", "block_time")
    if withdrawals.empty:
        return _empty(columns)
    return withdrawals[list(columns)].sort_values(["slot", "signature", "ix_path"]).reset_index(drop=True)


def payout_totals(withdrawals: pd.DataFrame) -> pd.DataFrame:
    """Per creator and mint: how many payouts and how much, of which by the admin (batch payouts), and the
    newest payout's time."""
    columns = ("creator", "mint", "payouts", "total", "admin_payouts", "admin_total", "last_payout_at")
    if withdrawals.empty:
        return _empty(columns)
    zero = pd.Series(0, index=withdrawals.index, dtype="object")
    frame = withdrawals.assign(
        admin_amount=withdrawals["amount"].where(withdrawals["by_admin"], zero),
        admin_one=withdrawals["by_admin"].astype(int),
    )
    out = frame.groupby(["creator", "mint"], sort=True).agg(
        payouts=("amount", "size"), total=("amount", "sum"), admin_payouts=("admin_one", "sum"),
        admin_total=("admin_amount", "sum"), last_payout_at=("block_time", "max"),
    )  # fmt: skip
    return _out(out, columns)


def payout_batches(withdrawals: pd.DataFrame) -> pd.DataFrame:
    """Per batch payout (an admin's instruction paying several creators at once) and mint: how many creators,
    the total and the largest single payout."""
    columns = ("signature", "ix_path", "mint", "creators", "total", "largest", "slot", "block_time")
    batched = withdrawals[withdrawals["by_admin"].astype(bool)] if not withdrawals.empty else withdrawals
    if batched.empty:
        return _empty(columns)
    out = batched.groupby(["signature", "ix_path", "mint"], sort=False).agg(
        creators=("creator", "nunique"), total=("amount", "sum"), largest=("amount", "max"), slot=("slot", "first"),
        block_time=("block_time", "first"),
    )  # fmt: skip
    out = out.reset_index().sort_values(["slot", "signature", "ix_path", "mint"], kind="stable")
    return _out(out.set_index("signature"), columns)
