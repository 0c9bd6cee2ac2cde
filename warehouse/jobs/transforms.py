"""The analytics as pure pandas functions: DataFrames of facts in, DataFrames of aggregate rows out.

No I/O and no clock: everything a transform needs is in its arguments, so each is tested on hand-made
frames and a full recompute equals an incremental one (the jobs recompute whole creators). Amounts are
Python ints in `object` columns: a sum of u64 amounts can pass 2^63, and nothing here is ever a float.

The gift frame (`GIFT_COLUMNS`) has one row per gift: creator, fan, mint ('' for SOL), amount, fee,
post_id, slot, block_time (UTC timestamps), commitment.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

import pandas as pd

from warehouse.jobs.frames import records

__all__ = [
    "GIFT_COLUMNS",
    "SIZE_EDGES",
    "daily_earnings",
    "escrow_ledger",
    "gift_size_buckets",
    "payout_summaries",
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


DAILY_COLUMNS = ("creator", "day", "mint", "settled_gross", "settled_fees", "settled_net", "pending_gross",
                 "pending_fees", "pending_net", "gift_count", "unique_fans")  # fmt: skip


def daily_earnings(gifts: pd.DataFrame) -> pd.DataFrame:
    """Per creator, UTC day and mint: gross, fees and net, settled (finalized) apart from pending."""
    if gifts.empty:
        return _empty(DAILY_COLUMNS)
    frame = gifts.assign(
        day=gifts["block_time"].dt.tz_convert("UTC").dt.date, settled=gifts["commitment"] == "finalized"
    )
    rows = []
    for (creator, day, mint), group in frame.groupby(["creator", "day", "mint"], sort=True):
        settled, pending = group[group["settled"]], group[~group["settled"]]
        sg, sf = _int_sum(settled["amount"]), _int_sum(settled["fee"])
        pg, pf = _int_sum(pending["amount"]), _int_sum(pending["fee"])
        rows.append((creator, day, mint, sg, sf, sg - sf, pg, pf, pg - pf, len(group), group["fan"].nunique()))
    return pd.DataFrame(rows, columns=list(DAILY_COLUMNS), dtype="object")


def post_earnings(gifts: pd.DataFrame) -> pd.DataFrame:
    """Per creator, post id and mint: gross, fees, gifts and distinct fans (gifts without a post left out)."""
    columns = ("creator", "post_id", "mint", "gross", "fees", "gift_count", "unique_fans")
    frame = gifts[gifts["post_id"] != ""] if not gifts.empty else gifts
    if frame.empty:
        return _empty(columns)
    rows = [
        (creator, post, mint, _int_sum(g["amount"]), _int_sum(g["fee"]), len(g), g["fan"].nunique())
        for (creator, post, mint), g in frame.groupby(["creator", "post_id", "mint"], sort=True)
    ]
    return pd.DataFrame(rows, columns=list(columns), dtype="object")


def top_supporters(gifts: pd.DataFrame, limit: int = 10) -> pd.DataFrame:
    """Per creator and mint, the `limit` fans who gave the most (ties: more gifts, then earlier first gift)."""
    columns = ("creator", "mint", "fan", "total", "gift_count", "first_gift_at", "last_gift_at", "rank")
    if gifts.empty:
        return _empty(columns)
    rows = []
    for (creator, mint), group in gifts.groupby(["creator", "mint"], sort=True):
        fans = [
            (fan, _int_sum(g["amount"]), len(g), g["block_time"].min(), g["block_time"].max())
            for fan, g in group.groupby("fan", sort=True)
        ]
        fans.sort(key=lambda f: (-f[1], -f[2], f[3], f[0]))
        rows += [(creator, mint, *fan, rank) for rank, fan in enumerate(fans[:limit], start=1)]
    return pd.DataFrame(rows, columns=list(columns), dtype="object")


def supporter_cohorts(gifts: pd.DataFrame) -> pd.DataFrame:
    """Fans grouped by the month of their first gift (per creator, and '' for the platform); for each later
    month, how many of the cohort gave again, as a count and a share of the cohort."""
    columns = ("creator", "cohort_month", "month_offset", "fans", "repeat_rate")
    if gifts.empty:
        return _empty(columns)
    month = gifts["block_time"].dt.tz_convert("UTC").dt.tz_localize(None).dt.to_period("M")
    frame = pd.concat(
        [gifts.assign(month=month), gifts.assign(month=month, creator="")], ignore_index=True
    )  # per creator, and the whole platform under ''
    rows = []
    for creator, group in frame.groupby("creator", sort=True):
        first = group.groupby("fan")["month"].min().rename("cohort")
        active = group[["fan", "month"]].drop_duplicates().join(first, on="fan")
        active["offset"] = (active["month"] - active["cohort"]).apply(lambda d: d.n)
        sizes = first.value_counts()
        for key, fans in active.groupby(["cohort", "offset"], sort=True)["fan"]:
            cohort, offset = cast(tuple[Any, Any], key)
            size = int(sizes.loc[cohort])
            rate = round(fans.nunique() / size, 6)
            rows.append((creator, cohort.to_timestamp().date(), int(offset), fans.nunique(), rate))
    return pd.DataFrame(rows, columns=list(columns), dtype="object")


def gift_size_buckets(gifts: pd.DataFrame, edges: Sequence[int] = SIZE_EDGES) -> pd.DataFrame:
    """How many gifts (and how much) fell in each size bucket, per mint; empty buckets are listed too."""
    columns = ("mint", "bucket_lower", "bucket_upper", "gift_count", "total")
    if gifts.empty:
        return _empty(columns)
    rows = []
    for mint, group in gifts.groupby("mint", sort=True):
        amounts = [int(a) for a in group["amount"]]
        for i, lower in enumerate(edges):
            upper = edges[i + 1] if i + 1 < len(edges) else None
            inside = [a for a in amounts if a >= lower and (upper is None or a < upper)]
            rows.append((mint, lower, upper, len(inside), sum(inside)))
    return pd.DataFrame(rows, columns=list(columns), dtype="object")


def platform_kpis(gifts: pd.DataFrame, vault_value: pd.DataFrame) -> pd.DataFrame:
    """Per UTC day: SOL volume and fees, gifts, active fans and creators, and the value held in vaults at the
    end of the day (`vault_value`: day, vault_value_lamports, from the ledger of gifts and withdrawals)."""
    columns = ("day", "volume_lamports", "fees_lamports", "gift_count", "active_fans", "active_creators",
               "vault_value_lamports")  # fmt: skip
    if gifts.empty:
        return _empty(columns)
    frame = gifts.assign(day=gifts["block_time"].dt.tz_convert("UTC").dt.date)
    values = {row["day"]: int(row["vault_value_lamports"]) for row in records(vault_value)}
    rows = []
    for day, group in frame.groupby("day", sort=True):
        sol = group[group["mint"] == ""]
        rows.append((day, _int_sum(sol["amount"]), _int_sum(sol["fee"]), len(group), group["fan"].nunique(),
                     group["creator"].nunique(), values.get(day, 0)))  # fmt: skip
    return pd.DataFrame(rows, columns=list(columns), dtype="object")


def vault_value_by_day(gifts: pd.DataFrame, withdrawals: pd.DataFrame) -> pd.DataFrame:
    """Lamports held in all vaults at the end of each day: running net gifts minus withdrawals (SOL only)."""
    moves: list[tuple[object, int]] = []
    for frame, sign in ((gifts, 1), (withdrawals, -1)):
        if frame.empty:
            continue
        sol = frame[frame["mint"] == ""]
        days = sol["block_time"].dt.tz_convert("UTC").dt.date
        net = sol["amount"] if sign < 0 else [int(a) - int(f) for a, f in zip(sol["amount"], sol["fee"], strict=True)]
        moves += [(day, sign * int(n)) for day, n in zip(days, net, strict=True)]
    if not moves:
        return _empty(("day", "vault_value_lamports"))
    held = 0
    rows = []
    for day in sorted({d for d, _ in moves}, key=str):
        held += sum(n for d, n in moves if d == day)
        rows.append((day, held))
    return pd.DataFrame(rows, columns=["day", "vault_value_lamports"], dtype="object")


def escrow_ledger(gifts: pd.DataFrame, creators: pd.DataFrame, bindings: pd.DataFrame) -> pd.DataFrame:
    """Per creator: SOL waiting for an unbound handle (amount, gifts, the oldest gift's time) and, once bound,
    how long the first binding took from the first gift."""
    columns = ("creator", "platform", "handle", "waiting_amount", "waiting_gifts", "oldest_gift_at", "bound_at",
               "time_to_bind_seconds")  # fmt: skip
    if creators.empty:
        return _empty(columns)
    first_bound = bindings.groupby("creator")["block_time"].min() if not bindings.empty else pd.Series(dtype="object")
    sol = gifts[gifts["mint"] == ""] if not gifts.empty else gifts
    rows: list[tuple[Any, ...]] = []
    for creator in records(creators):
        mine = sol[sol["creator"] == creator["creator"]] if not sol.empty else sol
        bound_at = first_bound.get(creator["creator"])
        if bound_at is None or pd.isna(bound_at):
            net = [int(a) - int(f) for a, f in zip(mine["amount"], mine["fee"], strict=True)] if not mine.empty else []
            oldest = mine["block_time"].min() if not mine.empty else None
            rows.append(
                (creator["creator"], creator["platform"], creator["handle"], sum(net), len(net), oldest, None, None)
            )
            continue
        before = mine[mine["block_time"] <= bound_at] if not mine.empty else mine
        oldest = before["block_time"].min() if not before.empty else None
        waited = int((bound_at - oldest).total_seconds()) if oldest is not None else None
        rows.append((creator["creator"], creator["platform"], creator["handle"], 0, 0, oldest, bound_at, waited))
    return pd.DataFrame(rows, columns=list(columns), dtype="object")


def payout_summaries(withdrawals: pd.DataFrame) -> pd.DataFrame:
    """Every payout to a creator: a withdrawal by the creator or by the admin (a batch payout)."""
    columns = ("signature", "ix_path", "creator", "mint", "amount", "by_admin", "slot", "block_time")
    if withdrawals.empty:
        return _empty(columns)
    return withdrawals[list(columns)].sort_values(["slot", "signature", "ix_path"]).reset_index(drop=True)
