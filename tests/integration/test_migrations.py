"""Alembic owns the schema: upgrade, downgrade and upgrade again on a real server match the metadata."""

from __future__ import annotations

import asyncio
import uuid
from decimal import Decimal

import asyncpg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from tests.conftest import with_database
from warehouse.db import connect, downgrade, head_revision, upgrade
from warehouse.schema import VIEWS, metadata


async def _tables(url: str) -> set[str]:
    conn = await connect(url)
    try:
        rows = await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        views = await conn.fetch("SELECT viewname FROM pg_views WHERE schemaname = 'public'")
    finally:
        await conn.close()
    return {r["tablename"] for r in rows} | {r["viewname"] for r in views}


def _diffs(url: str) -> list[object]:
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg2://"))
    try:
        with engine.connect() as conn:
            return list(compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata))
    finally:
        engine.dispose()


@pytest.fixture
def empty_db(pg_admin_url: str) -> str:
    name = f"memefans_mig_{uuid.uuid4().hex[:8]}"

    async def create() -> None:
        conn = await connect(pg_admin_url)
        await conn.execute(f'CREATE DATABASE "{name}"')
        await conn.close()

    asyncio.run(create())
    return with_database(pg_admin_url, name)


def test_upgrade_downgrade_upgrade_matches_metadata(empty_db: str) -> None:
    upgrade(empty_db)
    after_first = asyncio.run(_tables(empty_db))
    assert set(metadata.tables) | set(VIEWS) | {"alembic_version"} == after_first

    downgrade(empty_db, "base")
    assert asyncio.run(_tables(empty_db)) == {"alembic_version"}

    upgrade(empty_db)
    assert asyncio.run(_tables(empty_db)) == after_first
    assert head_revision() == "0004"
    assert _diffs(empty_db) == []


KEY = "11111111111111111111111111111111"


async def _insert_gift(
    conn: asyncpg.Connection,
    sig: str,
    creator: str,
    amount: int,
    fee: int,
    commitment: str,
    mint: str | None = None,
) -> None:
    await conn.execute(
        "INSERT INTO gifts (signature, ix_path, event_index, slot, commitment, creator, fan, mint, amount, fee)"
        " VALUES ($1, '0', 0, 10, $2, $3, $4, $5, $6, $7)",
        sig, commitment, creator, KEY, mint, amount, fee,
    )  # fmt: skip


async def test_balance_views_are_exact(db_pool: asyncpg.Pool) -> None:
    async with db_pool.acquire() as conn:
        for creator, handle in (("CreatorA", "Alice"), ("CreatorB", "bob")):
            await conn.execute(
                "INSERT INTO creators (creator, platform, handle, handle_key, signature, slot, commitment)"
                " VALUES ($1, 'x', $2, $3, $1, 1, 'finalized')",
                creator, handle, handle.lower(),
            )  # fmt: skip
        await _insert_gift(conn, "s1", "CreatorA", 1_000_000_000, 25_000_000, "finalized")
        await _insert_gift(conn, "s2", "CreatorA", 18_446_744_073_709_551_615, 0, "confirmed")
        await _insert_gift(conn, "s3", "CreatorA", 500, 5, "finalized", mint="MintM")
        await conn.execute(
            "INSERT INTO withdrawals (signature, ix_path, event_index, slot, commitment, creator, authority,"
            " destination, amount, by_admin) VALUES ('w1', '0', 0, 11, 'finalized', 'CreatorA', $1, $1, 300000000,"
            " false)",
            KEY,
        )
        await conn.execute(
            "INSERT INTO creator_bindings (signature, ix_path, event_index, slot, commitment, creator, authority,"
            " verifier) VALUES ('b1', '0', 0, 5, 'finalized', 'CreatorA', 'Wallet1', $1),"
            " ('b2', '0', 0, 9, 'finalized', 'CreatorA', 'Wallet2', $1)",
            KEY,
        )
        rows = {r["handle"]: r for r in await conn.fetch("SELECT * FROM creator_balances")}
        tokens = await conn.fetch("SELECT * FROM creator_token_balances")

    alice = rows["Alice"]
    assert alice["authority"] == "Wallet2"  # the latest binding wins
    assert alice["gifted"] == Decimal(1_000_000_000 + 18_446_744_073_709_551_615)
    assert alice["fees"] == 25_000_000
    assert alice["withdrawn"] == 300_000_000
    assert alice["balance"] == alice["gifted"] - 25_000_000 - 300_000_000
    assert alice["gift_count"] == 2  # the token gift is not a SOL gift
    assert alice["settled_balance"] == 1_000_000_000 - 25_000_000 - 300_000_000  # finalized rows only
    bob = rows["bob"]
    assert (bob["authority"], bob["balance"], bob["gift_count"], bob["settled_balance"]) == (None, 0, 0, 0)
    assert [(t["handle"], t["mint"], t["gifted"], t["fees"], t["balance"]) for t in tokens] == [
        ("Alice", "MintM", 500, 5, 495)
    ]


async def test_constraints_refuse_bad_money(db_pool: asyncpg.Pool) -> None:
    async with db_pool.acquire() as conn:
        with pytest.raises(asyncpg.CheckViolationError):
            await _insert_gift(conn, "bad", "C", 10, 11, "confirmed")  # fee above amount
        with pytest.raises(asyncpg.CheckViolationError):
            await _insert_gift(conn, "bad2", "C", 10, 1, "processed")  # not a stored commitment
