"""The write side of the warehouse: batches of rows in, exactly once, with the cursor in the same transaction.

Every batch is one database transaction: the rows of each table are COPYed into a session-local staging
table (binary COPY, the fastest way into PostgreSQL), then upserted into the real table on its natural key,
then the cursor is written. A replay of any range changes nothing; a crash between two batches loses
nothing that was committed and commits nothing half-way.

Commitment: rows arrive `confirmed` (or `finalized` when their slot is already rooted) and never go back;
`finalize()` promotes the rows of rooted slots and deletes the rows of slots that died, rewinding the cursor
to before the first dead slot in the same transaction.

The sink knows tables and columns, not events: the indexer's projection turns decoded events into rows.

Text from the chain reaches it already cleaned by the decoder (no NUL, no invalid UTF-8). What else could
still make PostgreSQL refuse a value is held off here, where it is cheap: JSONB values (a node's `err`, a
dead letter's payload) are written with NUL and lone surrogates replaced by U+FFFD, and dead letters' text
likewise, so that a dead letter can always be written. A row the database still refuses (or that the
client cannot encode) fails its whole batch as not transient: the pipeline then stores each transaction
alone and turns the one refused into a `sink` dead letter, none of its rows stored.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

import asyncpg
import orjson
from sqlalchemy import Table

from warehouse import schema
from warehouse.errors import WarehouseError

__all__ = [
    "SINK_TABLES",
    "DeadLetter",
    "FinalityResult",
    "Sink",
    "SinkError",
    "StoredCursor",
    "columns",
    "key_of",
    "open_sink",
    "storable_text",
]


class SinkError(WarehouseError):
    """A batch could not be stored: a row breaks a constraint (`transient` False: retrying cannot help) or
    the database went away (`transient` True)."""

    def __init__(self, message: str, *, transient: bool) -> None:
        super().__init__(message)
        self.transient = transient


def _failure(what: str, exc: BaseException) -> SinkError:
    # UnicodeError: the client could not encode a value (a lone surrogate): retrying cannot help either
    refused = isinstance(exc, asyncpg.DataError | asyncpg.IntegrityConstraintViolationError | UnicodeError)
    return SinkError(f"{what}: {type(exc).__name__}: {exc}", transient=not refused)


# The tables the sink writes, in dependency order; each is upserted on its primary key.
SINK_TABLES: tuple[Table, ...] = (
    schema.slots,
    schema.transactions,
    schema.decoded_instructions,
    schema.decoded_events,
    schema.creators,
    schema.creator_bindings,
    schema.gifts,
    schema.withdrawals,
    schema.batch_payouts,
    schema.admin_actions,
    schema.failed_attempts,
)
# Tables whose rows belong to one slot and carry a commitment: what finalize() promotes or deletes.
_COMMITTED = tuple(t for t in SINK_TABLES if "commitment" in t.c)
_BY_SLOT = tuple(t for t in SINK_TABLES if "slot" in t.c and t is not schema.slots)


# Fact tables whose rows are written once and, short of a replay, never again: a batch of new rows is
# COPYed straight into them (no staging, no upsert); a replayed row makes that COPY fail on its key, and the
# batch then takes the staging path. Slots and creators are updated across batches and always take it.
_APPEND_ONLY = frozenset(t.name for t in SINK_TABLES) - {schema.slots.name, schema.creators.name}


async def _copy_new(conn: asyncpg.Connection, direct: Sequence[tuple[str, Sequence[Sequence[Any]]]]) -> bool:
    """COPY rows straight into their tables under a savepoint; False (and nothing written) if one was there."""
    try:
        async with conn.transaction():
            for name, records in direct:
                await conn.copy_records_to_table(name, records=records, columns=_STATEMENTS[name].columns)
    except asyncpg.UniqueViolationError:
        return False
    return True


@dataclass(frozen=True, slots=True)
class StoredCursor:
    name: str
    slot: int
    signature: str | None
    details: dict[str, Any]


@dataclass(frozen=True, slots=True)
class DeadLetter:
    stage: str  # "fetch", "decode", "project", ...
    reason: str
    signature: str | None = None
    slot: int | None = None
    payload: Any = None


@dataclass(frozen=True, slots=True)
class FinalityResult:
    promoted_slots: int = 0
    dead_slots: tuple[int, ...] = ()
    deleted_rows: int = 0
    cursor: StoredCursor | None = None  # the cursor after a rewind, when one happened


@dataclass
class _Statement:
    table: Table
    columns: tuple[str, ...]
    stage: str
    upsert: str
    key_of: Callable[[Sequence[Any]], tuple[Any, ...]]  # a record's primary key, as a tuple
    plain: str  # the upsert for a batch without duplicate keys


def _key_getter(positions: Sequence[int]) -> Callable[[Sequence[Any]], tuple[Any, ...]]:
    if len(positions) == 1:
        (position,) = positions
        return lambda record: (record[position],)
    getter: Callable[[Sequence[Any]], tuple[Any, ...]] = itemgetter(*positions)
    return getter


def _statement(table: Table) -> _Statement:
    columns = tuple(c.name for c in table.columns if c.name != "updated_at" and not _is_serial(table, c.name))
    key = tuple(c.name for c in table.primary_key.columns)
    stage = f"_stage_{table.name}"
    assignments = []
    for name in columns:
        if name in key:
            continue
        if name == "commitment":
            # a row never goes back from finalized to confirmed, whatever order its copies arrive in
            assignments.append(
                f"commitment = CASE WHEN {table.name}.commitment = 'finalized' THEN 'finalized' "
                "ELSE EXCLUDED.commitment END"
            )
        elif table is schema.slots and name == "status":
            assignments.append(
                "status = CASE WHEN slots.status IN ('finalized', 'dead') THEN slots.status ELSE EXCLUDED.status END"
            )
        else:
            assignments.append(f"{name} = EXCLUDED.{name}")
    if "updated_at" in table.c:
        assignments.append("updated_at = now()")
    column_list = ", ".join(columns)
    action = f"DO UPDATE SET {', '.join(assignments)}" if assignments else "DO NOTHING"
    upsert = (
        f"INSERT INTO {table.name} ({column_list}) SELECT DISTINCT ON ({', '.join(key)}) {column_list} "
        f"FROM {stage} ORDER BY {', '.join(key)} ON CONFLICT ({', '.join(key)}) {action}"
    )
    # without duplicate keys in the batch (the usual case), no sort is needed
    plain = (
        f"INSERT INTO {table.name} ({column_list}) SELECT {column_list} FROM {stage} "
        f"ON CONFLICT ({', '.join(key)}) {action}"
    )
    return _Statement(table, columns, stage, upsert, _key_getter([columns.index(k) for k in key]), plain)


def _is_serial(table: Table, name: str) -> bool:
    column = table.c[name]
    return bool(column.primary_key and column.autoincrement is True)


_STATEMENTS = {t.name: _statement(t) for t in SINK_TABLES}


# `\u0000` escaped by an odd number of backslashes: a NUL, which JSONB refuses (an even number is a
# backslash followed by the letters u0000, which is fine)
_NUL_ESCAPE = re.compile(rb"(?<!\\)((?:\\\\)*)\\u0000")
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")  # NUL and lone surrogates: no PostgreSQL text holds them


def storable_text(text: str) -> str:
    """`text` with what PostgreSQL's text and JSONB refuse (NUL, lone surrogates) replaced by U+FFFD."""
    return _UNSTORABLE.sub("\ufffd", text) if _UNSTORABLE.search(text) else text


def _storable(value: Any) -> Any:
    if isinstance(value, str):
        return storable_text(value)
    if isinstance(value, dict):
        return {storable_text(str(k)): _storable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_storable(v) for v in value]
    return value


def _encode_jsonb(value: Any) -> bytes:
    try:
        out = orjson.dumps(value)
    except TypeError:
        # an integer wider than 64 bits (u128 fields; the standard library writes any int) or a lone surrogate
        out = json.dumps(_storable(value), separators=(",", ":"), ensure_ascii=False).encode()
    if b"\\u0000" in out:
        out = _NUL_ESCAPE.sub(rb"\1\\ufffd", out)
    return b"\x01" + out


def _decode_jsonb(data: bytes) -> Any:
    return json.loads(data[1:])  # exact for integers of any width, unlike orjson


async def _init_connection(conn: asyncpg.Connection) -> None:
    # Commits need not wait for the WAL flush: a server crash can only lose the newest batches whole, rows and
    # cursor together, and the indexer then reads them again (exactly once either way).
    await conn.execute("SET synchronous_commit = off")
    await conn.set_type_codec(
        "jsonb", schema="pg_catalog", encoder=_encode_jsonb, decoder=_decode_jsonb, format="binary"
    )
    for statement in _STATEMENTS.values():
        await conn.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {statement.stage} "
            f"(LIKE {statement.table.name} INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
        )


@dataclass
class Sink:
    """Writes batches into the warehouse through a pool whose connections carry the staging tables."""

    pool: asyncpg.Pool
    rows_written: dict[str, int] = field(default_factory=dict)

    async def close(self) -> None:
        await self.pool.close()

    async def read_cursor(self, name: str) -> StoredCursor | None:
        async with self.pool.acquire() as conn:
            row = await conn.fetchrow("SELECT slot, signature, details FROM cursors WHERE name = $1", name)
        if row is None:
            return None
        return StoredCursor(name, int(row["slot"]), row["signature"], dict(row["details"] or {}))

    async def write(
        self,
        rows: Mapping[str, Sequence[Sequence[Any]]],
        *,
        cursor: StoredCursor | None = None,
        dead_letters: Sequence[DeadLetter] = (),
    ) -> dict[str, int]:
        """Store one batch: `rows` maps a table name to tuples in `columns(table)` order. Returns the rows
        upserted per table. Everything commits together or not at all."""
        counts: dict[str, int] = {}
        try:
            async with self.pool.acquire() as conn, conn.transaction():
                staged: list[str] = []
                direct: list[tuple[str, Sequence[Sequence[Any]]]] = []
                for table in SINK_TABLES:
                    records = rows.get(table.name)
                    if not records:
                        continue
                    statement = _STATEMENTS[table.name]
                    distinct = len(set(map(statement.key_of, records)))
                    counts[table.name] = distinct
                    if table.name in _APPEND_ONLY and distinct == len(records):
                        direct.append((table.name, records))
                    else:
                        staged.append(table.name)
                if direct and not await _copy_new(conn, direct):
                    staged = [t.name for t in SINK_TABLES if t.name in counts]  # a replay: every table upserts
                upserts = []
                for name in staged:
                    records = rows[name]
                    statement = _STATEMENTS[name]
                    await conn.copy_records_to_table(statement.stage, records=records, columns=statement.columns)
                    upserts.append(statement.plain if counts[name] == len(records) else statement.upsert)
                if upserts:
                    await conn.execute(";\n".join(upserts))  # one round trip for every table of the batch
                if dead_letters:
                    await conn.executemany(
                        "INSERT INTO dead_letters (signature, slot, stage, reason, payload) "
                        "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (signature, stage) DO UPDATE "
                        "SET reason = EXCLUDED.reason, slot = EXCLUDED.slot, payload = EXCLUDED.payload, "
                        "created_at = now()",
                        [
                            (
                                storable_text(d.signature) if d.signature is not None else None,
                                d.slot,
                                d.stage,
                                storable_text(d.reason),
                                d.payload,
                            )
                            for d in dead_letters
                        ],
                    )
                if cursor is not None:
                    await _write_cursor(conn, cursor)
        except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError, UnicodeError) as exc:
            raise _failure("batch not stored", exc) from exc
        for name, count in counts.items():
            self.rows_written[name] = self.rows_written.get(name, 0) + count
        return counts

    async def fee_history(self) -> list[dict[str, Any]]:
        """Every fee setting stored (the ConfigUpdated admin actions), oldest first: slot, tx_index,
        signature, ix_path, fee_bps and previous_fee_bps."""
        async with self.pool.acquire() as conn:
            records = await conn.fetch(
                "SELECT slot, tx_index, signature, ix_path, (details->>'fee_bps')::int AS fee_bps, "
                "(details->>'previous_fee_bps')::int AS previous_fee_bps FROM admin_actions "
                "WHERE details ? 'fee_bps' AND details ? 'previous_fee_bps' ORDER BY slot, tx_index, ix_path"
            )
        return [dict(r) for r in records]

    async def confirmed_slots(self, upto: int) -> list[int]:
        """Slots at or below `upto` that still hold rows at `confirmed`."""
        async with self.pool.acquire() as conn:
            records = await conn.fetch(
                "SELECT slot FROM transactions WHERE commitment = 'confirmed' AND slot <= $1 "
                "UNION SELECT slot FROM creators WHERE commitment = 'confirmed' AND slot <= $1 ORDER BY 1",
                upto,
            )
        return [int(r["slot"]) for r in records]

    async def finalize(self, rooted: Sequence[int], dead: Sequence[int], *, cursor_name: str) -> FinalityResult:
        """Promote the rows of `rooted` slots to finalized and delete the rows of `dead` slots; when the cursor
        points into or past a dead slot, move it back to the newest transaction left before it."""
        deleted = 0
        rewound: StoredCursor | None = None
        try:
            async with self.pool.acquire() as conn, conn.transaction():
                if rooted:
                    for table in _COMMITTED:
                        await conn.execute(
                            f"UPDATE {table.name} SET commitment = 'finalized' "
                            "WHERE commitment = 'confirmed' AND slot = ANY($1::bigint[])",
                            list(rooted),
                        )
                    await conn.execute(
                        "UPDATE slots SET status = 'finalized', updated_at = now() WHERE slot = ANY($1::bigint[])",
                        list(rooted),
                    )
                if dead:
                    for table in _BY_SLOT:
                        status = await conn.execute(
                            f"DELETE FROM {table.name} WHERE slot = ANY($1::bigint[])", list(dead)
                        )
                        deleted += int(status.rsplit(" ", 1)[-1])
                    await conn.execute(
                        "INSERT INTO slots (slot, status) SELECT unnest($1::bigint[]), 'dead' "
                        "ON CONFLICT (slot) DO UPDATE SET status = 'dead', updated_at = now()",
                        list(dead),
                    )
                    row = await conn.fetchrow(
                        "SELECT slot, details FROM cursors WHERE name = $1 FOR UPDATE", cursor_name
                    )
                    if row is not None and int(row["slot"]) >= min(dead):
                        back = await conn.fetchrow(
                            "SELECT slot, signature FROM transactions WHERE slot < $1 "
                            "ORDER BY slot DESC, tx_index DESC NULLS LAST, signature DESC LIMIT 1",
                            min(dead),
                        )
                        details = dict(row["details"] or {})
                        details["rewound_from"] = int(row["slot"])
                        rewound = StoredCursor(
                            cursor_name,
                            int(back["slot"]) if back else max(0, min(dead) - 1),
                            back["signature"] if back else None,
                            details,
                        )
                        await _write_cursor(conn, rewound)
        except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as exc:
            raise _failure("finality not applied", exc) from exc
        return FinalityResult(len(rooted), tuple(dead), deleted, rewound)


async def _write_cursor(conn: asyncpg.Connection, cursor: StoredCursor) -> None:
    await conn.execute(
        "INSERT INTO cursors (name, slot, signature, details) VALUES ($1, $2, $3, $4) "
        "ON CONFLICT (name) DO UPDATE SET slot = EXCLUDED.slot, signature = EXCLUDED.signature, "
        "details = EXCLUDED.details, updated_at = now()",
        cursor.name,
        cursor.slot,
        cursor.signature,
        cursor.details,
    )


def columns(table: str) -> tuple[str, ...]:
    """The column order `Sink.write` expects for `table`."""
    return _STATEMENTS[table].columns


def key_of(table: str) -> Callable[[Sequence[Any]], tuple[Any, ...]]:
    """The function that takes a record of `table` (in `columns(table)` order) to its primary key."""
    return _STATEMENTS[table].key_of


async def open_sink(url: str, *, timeout: float = 10.0, max_size: int = 4) -> Sink:
    """A sink with its own pool (the staging tables live in each connection's session)."""
    try:
        pool = await asyncpg.create_pool(url, min_size=1, max_size=max_size, timeout=timeout, init=_init_connection)
    except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
        from warehouse.db import redact

        raise SinkError(f"cannot open the sink on {redact(url)}: {type(exc).__name__}: {exc}", transient=True) from exc
    assert pool is not None
    return Sink(pool)
