"""The sink against a real PostgreSQL: idempotent upserts, the cursor in the same transaction, finality,
dead slots removed with the cursor rewound, refused rows reported as such."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest

from warehouse.sink import DeadLetter, Sink, SinkError, StoredCursor, columns, open_sink

CREATOR, FAN = "C" * 44, "F" * 44


@pytest.fixture
async def sink(db_url: str) -> AsyncIterator[Sink]:
    sink = await open_sink(db_url)
    yield sink
    await sink.close()


def record(table: str, **values: Any) -> tuple[Any, ...]:
    return tuple(values.get(name) for name in columns(table))


def batch(slot: int, signature: str, amount: int, commitment: str = "confirmed") -> dict[str, list[tuple[Any, ...]]]:
    when = datetime.fromtimestamp(1_700_000_000 + slot, UTC)
    base = {"signature": signature, "slot": slot, "block_time": when, "commitment": commitment}
    return {
        "transactions": [
            record("transactions", **base, success=True, fee=5000, fee_payer=FAN, logs_truncated=False)
        ],
        "gifts": [
            record(
                "gifts", **base, ix_path="0", event_index=0, creator=CREATOR, fan=FAN, mint=None,
                amount=amount, fee=amount // 40, post_id="p1", memo="", derived=False,
            )
        ],
    }  # fmt: skip


async def gifts(pool: asyncpg.Pool) -> list[tuple[str, int, str]]:
    async with pool.acquire() as conn:
        rows = await conn.fetch("SELECT signature, amount, commitment FROM gifts ORDER BY slot")
    return [(r["signature"], int(r["amount"]), r["commitment"]) for r in rows]


async def test_a_replayed_batch_changes_nothing_and_the_cursor_moves_with_it(sink: Sink, db_pool: asyncpg.Pool) -> None:
    cursor = StoredCursor("prog", 10, "sig10", {"tip_slot": 12})
    for _ in range(3):
        counts = await sink.write(batch(10, "sig10", 1_000_000), cursor=cursor)
        assert counts == {"transactions": 1, "gifts": 1}
    assert await gifts(db_pool) == [("sig10", 1_000_000, "confirmed")]
    stored = await sink.read_cursor("prog")
    assert stored is not None and (stored.slot, stored.signature, stored.details["tip_slot"]) == (10, "sig10", 12)


async def test_finalized_rows_never_go_back_to_confirmed(sink: Sink, db_pool: asyncpg.Pool) -> None:
    await sink.write(batch(10, "sig10", 5))
    assert await sink.confirmed_slots(20) == [10]
    await sink.finalize([10], [], cursor_name="prog")
    assert await sink.confirmed_slots(20) == []
    await sink.write(batch(10, "sig10", 5))  # a late copy at confirmed
    assert await gifts(db_pool) == [("sig10", 5, "finalized")]


async def test_a_dead_slot_loses_its_rows_and_rewinds_the_cursor(sink: Sink, db_pool: asyncpg.Pool) -> None:
    await sink.write(batch(10, "sig10", 1))
    await sink.write(batch(11, "sig11", 2))
    await sink.write(batch(12, "sig12", 3), cursor=StoredCursor("prog", 12, "sig12", {}))
    result = await sink.finalize([10, 12], [11], cursor_name="prog")
    assert result.dead_slots == (11,) and result.deleted_rows == 2
    assert await gifts(db_pool) == [("sig10", 1, "finalized"), ("sig12", 3, "finalized")]
    stored = await sink.read_cursor("prog")
    assert stored is not None and (stored.slot, stored.signature) == (10, "sig10")
    assert stored.details["rewound_from"] == 12
    async with db_pool.acquire() as conn:
        assert await conn.fetchval("SELECT status FROM slots WHERE slot = 11") == "dead"


async def test_new_rows_go_straight_in_and_a_batch_overlapping_stored_rows_still_lands_once(
    sink: Sink, db_pool: asyncpg.Pool
) -> None:
    # new rows are COPYed straight into the fact tables; a batch holding one stored row and one new row
    # falls back to staging and upsert as a whole, and a finalized row stays finalized
    await sink.write(batch(10, "sig10", 1))
    await sink.finalize([10], [], cursor_name="prog")
    mixed = {t: batch(10, "sig10", 1)[t] + batch(11, "sig11", 2)[t] for t in ("transactions", "gifts")}
    assert await sink.write(mixed, cursor=StoredCursor("prog", 11, "sig11", {})) == {"transactions": 2, "gifts": 2}
    assert await gifts(db_pool) == [("sig10", 1, "finalized"), ("sig11", 2, "confirmed")]
    stored = await sink.read_cursor("prog")
    assert stored is not None and stored.signature == "sig11"
    await sink.write(batch(12, "sig12", 3))  # and the next new batch goes straight in again
    async with db_pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM transactions") == 3


async def test_duplicates_inside_one_batch_are_one_row(sink: Sink, db_pool: asyncpg.Pool) -> None:
    one = batch(10, "sig10", 7)
    doubled = {table: rows * 2 for table, rows in one.items()}
    assert await sink.write(doubled) == {"transactions": 1, "gifts": 1}


async def test_refused_rows_roll_back_the_whole_batch_and_say_so(sink: Sink, db_pool: asyncpg.Pool) -> None:
    bad = batch(10, "sig10", 100)
    bad["gifts"] = [record("gifts", **{**dict(zip(columns("gifts"), bad["gifts"][0], strict=True)), "fee": 101})]
    with pytest.raises(SinkError) as caught:
        await sink.write(bad, cursor=StoredCursor("prog", 10, "sig10", {}))
    assert not caught.value.transient and "fee" in str(caught.value)
    assert await gifts(db_pool) == []
    assert await sink.read_cursor("prog") is None  # the cursor did not move either


async def test_dead_letters_keep_the_reason_and_payload(sink: Sink, db_pool: asyncpg.Pool) -> None:
    letter = DeadLetter("decode", "meta missing", "sigX", 5, {"transaction": {}})
    await sink.write({}, dead_letters=[letter])
    await sink.write({}, dead_letters=[letter])
    async with db_pool.acquire() as conn:
        rows = await conn.fetch("SELECT signature, stage, reason, payload::text AS p FROM dead_letters")
    assert [(r["signature"], r["stage"], r["reason"], r["p"]) for r in rows] == [
        ("sigX", "decode", "meta missing", '{"transaction": {}}')
    ]
