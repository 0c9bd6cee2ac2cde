"""The jobs' thin I/O: facts out of the warehouse as DataFrames, aggregate rows and anomalies back in.

Reads select only what a job needs (optionally for some creators); writes replace a job's rows for the
creators it recomputed, in one transaction, so that a reader never sees half an update.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import asyncpg
import pandas as pd

from warehouse.jobs.rules import Anomaly

__all__ = [
    "load_admin",
    "load_bindings",
    "load_creators",
    "load_failed",
    "load_funding",
    "load_gifts",
    "load_transactions",
    "load_withdrawals",
    "replace_rows",
    "upsert_anomalies",
]


def _frame(records: Sequence[asyncpg.Record], columns: Sequence[str]) -> pd.DataFrame:
    frame = pd.DataFrame.from_records([tuple(r) for r in records], columns=list(columns))
    for column in ("amount", "fee"):
        if column in frame:
            frame[column] = frame[column].map(int).astype("object")
    if "block_time" in frame:
        frame["block_time"] = pd.to_datetime(frame["block_time"], utc=True)
    return frame


def _where(creators: Sequence[str] | None, column: str = "creator") -> tuple[str, list[Any]]:
    return (f"WHERE {column} = ANY($1::text[])", [list(creators)]) if creators is not None else ("", [])


async def load_gifts(conn: asyncpg.Connection, creators: Sequence[str] | None = None) -> pd.DataFrame:
    where, args = _where(creators)
    columns = ("signature", "creator", "fan", "mint", "amount", "fee", "post_id", "slot", "block_time", "commitment")
    rows = await conn.fetch(
        "SELECT signature, creator, fan, coalesce(mint, '') AS mint, amount, fee, post_id, slot, block_time, "
        f"commitment FROM gifts {where} ORDER BY slot, signature, ix_path, event_index",
        *args,
    )
    return _frame(rows, columns)


async def load_withdrawals(conn: asyncpg.Connection, creators: Sequence[str] | None = None) -> pd.DataFrame:
    where, args = _where(creators)
    columns = ("signature", "ix_path", "creator", "authority", "destination", "mint", "amount", "by_admin", "slot",
               "block_time", "commitment")  # fmt: skip
    rows = await conn.fetch(
        "SELECT signature, ix_path, creator, authority, destination, coalesce(mint, '') AS mint, amount, by_admin, "
        f"slot, block_time, commitment FROM withdrawals {where} ORDER BY slot, signature, ix_path, event_index",
        *args,
    )
    return _frame(rows, columns)


async def load_creators(conn: asyncpg.Connection, creators: Sequence[str] | None = None) -> pd.DataFrame:
    where, args = _where(creators)
    rows = await conn.fetch(f"SELECT creator, platform, handle, authority FROM creator_balances {where}", *args)
    return _frame(rows, ("creator", "platform", "handle", "authority"))


async def load_bindings(conn: asyncpg.Connection, creators: Sequence[str] | None = None) -> pd.DataFrame:
    where, args = _where(creators)
    rows = await conn.fetch(
        f"SELECT creator, authority, signature, slot, block_time FROM creator_bindings {where}", *args
    )
    return _frame(rows, ("creator", "authority", "signature", "slot", "block_time"))


async def load_failed(conn: asyncpg.Connection) -> pd.DataFrame:
    rows = await conn.fetch(
        "SELECT signature, fee_payer, instruction, error_name, slot, block_time FROM failed_attempts ORDER BY slot"
    )
    return _frame(rows, ("signature", "fee_payer", "instruction", "error_name", "slot", "block_time"))


async def load_admin(conn: asyncpg.Connection) -> pd.DataFrame:
    rows = await conn.fetch("SELECT signature, kind, actor, details, slot, block_time FROM admin_actions ORDER BY slot")
    frame = _frame(rows, ("signature", "kind", "actor", "details", "slot", "block_time"))
    frame["details"] = frame["details"].map(lambda d: json.loads(d) if isinstance(d, str) else d)
    return frame


async def load_transactions(conn: asyncpg.Connection) -> pd.DataFrame:
    rows = await conn.fetch(
        "SELECT signature, success, slot, block_time FROM transactions WHERE block_time IS NOT NULL"
    )
    return _frame(rows, ("signature", "success", "slot", "block_time"))


async def load_funding(conn: asyncpg.Connection) -> pd.DataFrame:
    rows = await conn.fetch(
        "SELECT wallet, funder, funding_signature FROM wallet_funding_cache WHERE funder IS NOT NULL"
    )
    return _frame(rows, ("wallet", "funder", "funding_signature"))


async def replace_rows(
    conn: asyncpg.Connection, table: str, frame: pd.DataFrame, *, creators: Sequence[str] | None = None
) -> int:
    """Replace `table`'s rows (all of them, or those of `creators`) with `frame`, in the caller's transaction."""
    if creators is None:
        await conn.execute(f"DELETE FROM {table}")
    else:
        await conn.execute(f"DELETE FROM {table} WHERE creator = ANY($1::text[])", list(creators))
    if frame.empty:
        return 0
    records = [tuple(None if _missing(v) else v for v in row) for row in frame.itertuples(index=False, name=None)]
    await conn.copy_records_to_table(table, records=records, columns=list(frame.columns))
    return len(records)


def _missing(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


async def upsert_anomalies(conn: asyncpg.Connection, anomalies: Sequence[Anomaly]) -> list[int]:
    """Insert new anomalies; one already known (same dedup key) only gets its evidence and last_seen updated,
    keeping the status an admin gave it. Returns the ids of the anomalies that are new."""
    new: list[int] = []
    for anomaly in anomalies:
        row = await conn.fetchrow(
            "INSERT INTO anomalies (rule, severity, dedup_key, title, evidence, creator) "
            "VALUES ($1, $2, $3, $4, $5::jsonb, $6) ON CONFLICT (dedup_key) DO UPDATE SET "
            "evidence = EXCLUDED.evidence, title = EXCLUDED.title, last_seen = now() "
            "RETURNING id, (xmax = 0) AS inserted",
            anomaly.rule, anomaly.severity, anomaly.dedup_key, anomaly.title,
            json.dumps(anomaly.evidence, default=str), anomaly.creator,
        )  # fmt: skip
        if row is not None and row["inserted"]:
            new.append(int(row["id"]))
    return new
