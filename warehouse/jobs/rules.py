"""Security rules as pure functions: frames of facts in, anomalies out. Each anomaly has its rule, a
severity, a title, evidence (JSON with the signatures) and a dedup key, so that one incident raises one
alert however often the rule runs.

Frames (one row per fact, as the warehouse holds them): gifts (signature, creator, fan, mint, amount,
slot, block_time), withdrawals (signature, creator, authority, destination, mint, amount, by_admin, slot,
block_time), failed (signature, fee_payer, instruction, error_name, slot, block_time), admin (signature,
kind, actor, details, slot, block_time), funding (wallet, funder, funding_signature): who first funded a
fan's wallet, read over RPC by the jobs.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from warehouse.jobs.frames import records

__all__ = [
    "Anomaly",
    "RuleSettings",
    "admin_actions",
    "burst_then_withdraw",
    "failure_spike",
    "large_withdrawals",
    "new_destination_withdrawals",
    "self_gifting_loops",
    "sybil_swarms",
    "unauthorized_attempts",
]


@dataclass(frozen=True, slots=True)
class Anomaly:
    rule: str
    severity: str  # info, low, medium, high, critical
    dedup_key: str
    title: str
    evidence: dict[str, Any]
    creator: str | None = None


@dataclass(frozen=True, slots=True)
class RuleSettings:
    large_withdrawal_z: float = 5.0  # robust z-score (median and MAD) against the creator's own history
    large_withdrawal_high_z: float = 10.0  # from here on it is high severity, below it medium
    large_withdrawal_history: int = 3  # withdrawals needed before one can be "large"
    burst_gifts: int = 10  # this many gifts to one creator ...
    burst_window_s: int = 600  # ... within this window ...
    burst_withdraw_within_s: int = 600  # ... and a withdrawal within this long after the burst
    burst_high_lamports: int = 5 * 10**9  # a burst worth this much is high severity, below it medium
    unauthorized_min: int = 3  # failed Unauthorized attempts from one wallet
    sybil_min_wallets: int = 5  # wallets funded by one source gifting one creator ...
    sybil_dedication: float = 0.8  # ... that are most of the wallets the source funded (not a faucet or exchange)
    failure_spike_ratio: float = 0.5  # failed share of the program's transactions in an hour
    failure_spike_min: int = 10
    admin_severity: dict[str, str] = field(
        default_factory=lambda: {
            "pause": "high", "unpause": "medium", "fee_change": "medium", "admin_change": "critical",
            "verifier_change": "high", "rebind": "high", "initialize": "info",
        }
    )  # fmt: skip


def _sigs(frame: pd.DataFrame) -> list[str]:
    return [str(s) for s in frame["signature"]]


def large_withdrawals(withdrawals: pd.DataFrame, settings: RuleSettings) -> list[Anomaly]:
    """A withdrawal far above the creator's own earlier withdrawals (robust z-score with median and MAD)."""
    found: list[Anomaly] = []
    if withdrawals.empty:
        return found
    for (creator, mint), group in withdrawals.sort_values(["slot", "signature"]).groupby(["creator", "mint"]):
        history: list[int] = []
        for row in records(group):
            amount = int(row["amount"])
            if len(history) >= settings.large_withdrawal_history:
                median = statistics.median(history)
                mad = statistics.median(abs(h - median) for h in history) or max(1.0, median * 0.05)
                z = 0.6745 * (amount - median) / mad
                if z >= settings.large_withdrawal_z:
                    severity = "high" if z >= settings.large_withdrawal_high_z else "medium"
                    found.append(Anomaly(
                        "large_withdrawal", severity, f"large_withdrawal:{row['signature']}",
                        f"withdrawal of {amount} is {z:.1f} robust deviations above this creator's usual",
                        {"signatures": [row["signature"]], "amount": amount, "median": median, "z": round(z, 2),
                         "mint": mint}, str(creator),
                    ))  # fmt: skip
            history.append(amount)
    return found


def burst_then_withdraw(gifts: pd.DataFrame, withdrawals: pd.DataFrame, settings: RuleSettings) -> list[Anomaly]:
    """Many gifts to one creator in a short window, then a withdrawal soon after: a laundering pattern."""
    found: list[Anomaly] = []
    if gifts.empty or withdrawals.empty:
        return found
    for creator, taken in withdrawals.groupby("creator"):
        received = gifts[gifts["creator"] == creator].sort_values("block_time")
        if len(received) < settings.burst_gifts:
            continue
        times = list(received["block_time"])
        for row in records(taken):
            window_end = row["block_time"]
            window_start = window_end - pd.Timedelta(seconds=settings.burst_window_s + settings.burst_withdraw_within_s)
            burst = received[(received["block_time"] >= window_start) & (received["block_time"] <= window_end)]
            if len(burst) >= settings.burst_gifts and times:
                value = sum(int(a) for a in burst["amount"])
                severity = "high" if value >= settings.burst_high_lamports else "medium"
                found.append(Anomaly(
                    "burst_then_withdraw", severity, f"burst_then_withdraw:{row['signature']}",
                    f"{len(burst)} gifts then a withdrawal of {int(row['amount'])} within "
                    f"{settings.burst_window_s + settings.burst_withdraw_within_s} s",
                    {"signatures": [*_sigs(burst), row["signature"]], "gifts": len(burst),
                     "withdrawn": int(row["amount"])},
                    str(creator),
                ))  # fmt: skip
    return found


def unauthorized_attempts(failed: pd.DataFrame, settings: RuleSettings) -> list[Anomaly]:
    """Repeated failed transactions with the program's Unauthorized error from one wallet."""
    found: list[Anomaly] = []
    if failed.empty:
        return found
    refused = failed[failed["error_name"] == "Unauthorized"]
    for wallet, group in refused.groupby("fee_payer"):
        if len(group) >= settings.unauthorized_min:
            found.append(Anomaly(
                "unauthorized_attempts", "high", f"unauthorized_attempts:{wallet}",
                f"{len(group)} unauthorized attempts from {wallet}",
                {"signatures": _sigs(group), "wallet": str(wallet),
                 "instructions": sorted({str(i) for i in group["instruction"].dropna()})},
            ))  # fmt: skip
    return found


def admin_actions(admin: pd.DataFrame, settings: RuleSettings) -> list[Anomaly]:
    """Every admin action is worth a look: pause, fee change, admin or verifier change, a handle rebind."""
    found: list[Anomaly] = []
    for row in records(admin):
        details = row["details"] if isinstance(row["details"], dict) else {}
        found.append(Anomaly(
            row['kind'] if row['kind'] == "rebind" else f"admin_{row['kind']}",
            settings.admin_severity.get(row["kind"], "medium"),
            f"admin:{row['signature']}:{row['kind']}",
            f"{row['kind'].replace('_', ' ')} by {row['actor']}",
            {"signatures": [row["signature"]], "actor": row["actor"], **details},
            details.get("creator"),
        ))  # fmt: skip
    return found


def new_destination_withdrawals(withdrawals: pd.DataFrame, authorities: dict[str, str]) -> list[Anomaly]:
    """A withdrawal to an address that is neither the creator's bound wallet nor a destination it used before."""
    found: list[Anomaly] = []
    if withdrawals.empty:
        return found
    for creator, group in withdrawals[~withdrawals["by_admin"]].sort_values(["slot", "signature"]).groupby("creator"):
        seen = {authorities.get(str(creator))}
        for row in records(group):
            seen.add(row["authority"])
            if row["destination"] not in seen:
                found.append(Anomaly(
                    "new_destination_withdrawal", "medium", f"new_destination_withdrawal:{row['signature']}",
                    f"withdrawal of {int(row['amount'])} to a never-seen address {row['destination']}",
                    {"signatures": [row["signature"]], "destination": row["destination"], "amount": int(row["amount"])},
                    str(creator),
                ))  # fmt: skip
            seen.add(row["destination"])
    return found


def sybil_swarms(gifts: pd.DataFrame, funding: pd.DataFrame, settings: RuleSettings) -> list[Anomaly]:
    """Several wallets funded by one source, each gifting the same creator: one person posing as many fans."""
    found: list[Anomaly] = []
    if gifts.empty or funding.empty:
        return found
    funder_of = dict(zip(funding["wallet"], funding["funder"], strict=True))
    funded_sig = dict(zip(funding["wallet"], funding["funding_signature"], strict=True))
    gifting = set(gifts["fan"])
    funded_count: dict[str, int] = defaultdict(int)  # wallets each source funded, among those that gifted
    for wallet, funder in funder_of.items():
        if wallet in gifting:
            funded_count[funder] += 1
    creators_of: dict[str, set[str]] = defaultdict(set)
    for fan, creator_of_gift in zip(gifts["fan"], gifts["creator"], strict=True):
        creators_of[str(fan)].add(str(creator_of_gift))
    for creator, group in gifts.groupby("creator"):
        by_funder: dict[str, list[str]] = defaultdict(list)
        for fan in group["fan"].unique():
            funder = funder_of.get(fan)
            if funder and creators_of.get(fan) == {creator}:  # a wallet that gives to this creator only
                by_funder[funder].append(str(fan))
        for funder, wallets in by_funder.items():
            dedicated = len(wallets) / funded_count[funder] >= settings.sybil_dedication
            if len(wallets) >= settings.sybil_min_wallets and dedicated:
                mine = group[group["fan"].isin(wallets)]
                found.append(Anomaly(
                    "sybil_swarm", "high", f"sybil_swarm:{creator}:{funder}",
                    f"{len(wallets)} wallets funded by {funder} gifted this creator",
                    {"signatures": [*(funded_sig[w] for w in wallets if funded_sig.get(w)), *_sigs(mine)],
                     "funder": funder, "wallets": sorted(wallets)}, str(creator),
                ))  # fmt: skip
    return found


def self_gifting_loops(gifts: pd.DataFrame, withdrawals: pd.DataFrame, funding: pd.DataFrame) -> list[Anomaly]:
    """Gifts from wallets funded by the creator's own withdrawal destination: the creator paying itself."""
    found: list[Anomaly] = []
    if gifts.empty or withdrawals.empty or funding.empty:
        return found
    funder_of = dict(zip(funding["wallet"], funding["funder"], strict=True))
    funded_sig = dict(zip(funding["wallet"], funding["funding_signature"], strict=True))
    for creator, taken in withdrawals.groupby("creator"):
        destinations = set(taken["destination"])
        received = gifts[gifts["creator"] == creator]
        looped = received[[funder_of.get(f) in destinations or f in destinations for f in received["fan"]]]
        if looped.empty:
            continue
        for destination in sorted(destinations):
            back = looped[[funder_of.get(f) == destination or f == destination for f in looped["fan"]]]
            if back.empty:
                continue
            out = taken[taken["destination"] == destination]
            found.append(Anomaly(
                "self_gifting_loop", "high", f"self_gifting_loop:{creator}:{destination}",
                f"{len(back)} gifts came back from wallets funded by this creator's withdrawal destination",
                {"signatures": [*_sigs(out), *(funded_sig[f] for f in back["fan"].unique() if funded_sig.get(f)),
                                *_sigs(back)], "destination": destination}, str(creator),
            ))  # fmt: skip
    return found


def failure_spike(transactions: pd.DataFrame, settings: RuleSettings) -> list[Anomaly]:
    """An hour in which the failed share of the program's transactions is far above normal."""
    found: list[Anomaly] = []
    if transactions.empty:
        return found
    hours = transactions["block_time"].dt.floor("h")
    for hour, group in transactions.groupby(hours):
        failed = group[~group["success"]]
        if len(group) >= settings.failure_spike_min and len(failed) / len(group) >= settings.failure_spike_ratio:
            found.append(Anomaly(
                "failure_spike", "medium", f"failure_spike:{hour.isoformat()}",
                f"{len(failed)} of {len(group)} transactions failed in the hour from {hour.isoformat()}",
                {"signatures": _sigs(failed)[:100], "failed": len(failed), "total": len(group)},
            ))  # fmt: skip
    return found
