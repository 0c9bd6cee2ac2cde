"""The warehouse schema: SQLAlchemy Core metadata, the single source that Alembic migrations follow.

Money is integer base units: NUMERIC(39,0) holds any u64 amount and any sum of them exactly (lamports for
SOL, base units for tokens); nothing is ever a float. Every decoded fact has the natural key
(signature, ix_path, event_index), so replays are idempotent upserts. Fact rows carry their commitment
(`confirmed`, then `finalized`); rows of a slot that dies are deleted by the sink, so every row present counts.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

__all__ = ["FACT_TABLES", "VIEWS", "metadata"]

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

SIG = String(88)  # base58 signature
KEY = String(44)  # base58 pubkey
AMOUNT = Numeric(39, 0)
TS = DateTime(timezone=True)
COMMITMENTS = "('confirmed', 'finalized')"


def _now() -> Column[object]:
    return Column("updated_at", TS, nullable=False, server_default=func.now())


def _fact(name: str, *columns: Column[object], checks: tuple[CheckConstraint, ...] = ()) -> Table:
    """A table of facts decoded from events: natural key, position in the chain, commitment."""
    table = Table(
        name,
        metadata,
        Column("signature", SIG, nullable=False),
        Column("ix_path", String(32), nullable=False),
        Column("event_index", Integer, nullable=False),
        Column("slot", BigInteger, nullable=False),
        Column("tx_index", Integer, nullable=True),
        Column("block_time", TS, nullable=True),
        Column("commitment", String(10), nullable=False),
        *columns,
        PrimaryKeyConstraint("signature", "ix_path", "event_index"),
        CheckConstraint(f"commitment IN {COMMITMENTS}", name="commitment"),
        *checks,
    )
    Index(None, table.c.slot)
    return table


slots = Table(
    "slots",
    metadata,
    Column("slot", BigInteger, primary_key=True),
    Column("parent_slot", BigInteger),
    Column("block_time", TS),
    Column("status", String(10), nullable=False),
    _now(),
    CheckConstraint("status IN ('processed', 'confirmed', 'finalized', 'dead')", name="status"),
)
Index(None, slots.c.status, slots.c.slot)

transactions = Table(
    "transactions",
    metadata,
    Column("signature", SIG, primary_key=True),
    Column("slot", BigInteger, nullable=False),
    Column("tx_index", Integer),
    Column("block_time", TS),
    Column("success", Boolean, nullable=False),
    Column("err", JSONB),
    Column("error_program", KEY),
    Column("error_code", BigInteger),
    Column("error_name", Text),
    Column("fee", BigInteger, nullable=False),
    Column("compute_units", BigInteger),
    Column("logs_truncated", Boolean, nullable=False, server_default=text("false")),
    Column("fee_payer", KEY, nullable=False),
    Column("commitment", String(10), nullable=False),
    CheckConstraint(f"commitment IN {COMMITMENTS}", name="commitment"),
    CheckConstraint("fee >= 0", name="fee"),
)
Index(None, transactions.c.slot)
Index(None, transactions.c.fee_payer)

decoded_instructions = Table(
    "decoded_instructions",
    metadata,
    Column("signature", SIG, nullable=False),
    Column("ix_path", String(32), nullable=False),
    Column("slot", BigInteger, nullable=False),
    Column("program_id", KEY, nullable=False),
    Column("name", Text),
    Column("args", JSONB),
    Column("accounts", JSONB),
    Column("derived", Boolean, nullable=False, server_default=text("false")),
    PrimaryKeyConstraint("signature", "ix_path"),
)
Index(None, decoded_instructions.c.program_id, decoded_instructions.c.name)

decoded_events = Table(
    "decoded_events",
    metadata,
    Column("signature", SIG, nullable=False),
    Column("ix_path", String(32), nullable=False),
    Column("event_index", Integer, nullable=False),
    Column("slot", BigInteger, nullable=False),
    Column("program_id", KEY, nullable=False),
    Column("name", Text, nullable=False),
    Column("fields", JSONB, nullable=False),
    Column("derived", Boolean, nullable=False, server_default=text("false")),
    Column("drift", Boolean, nullable=False, server_default=text("false")),
    Column("extra_hex", Text),
    PrimaryKeyConstraint("signature", "ix_path", "event_index"),
)
Index(None, decoded_events.c.program_id, decoded_events.c.name)
Index(None, decoded_events.c.slot)

# -- the gift pool's facts ---------------------------------------------------------------------------

creators = Table(
    "creators",
    metadata,
    Column("creator", KEY, primary_key=True),
    Column("platform", String(16), nullable=False),
    Column("handle", String(32), nullable=False),
    Column("handle_key", String(32), nullable=False),
    Column("registered_by", KEY),
    Column("signature", SIG, nullable=False),
    Column("slot", BigInteger, nullable=False),
    Column("block_time", TS),
    Column("commitment", String(10), nullable=False),
    UniqueConstraint("platform", "handle_key"),
    CheckConstraint("handle_key = lower(handle_key)", name="handle_key_lower"),
    CheckConstraint("platform ~ '^[a-z0-9_]{1,16}$'", name="platform_name"),
    CheckConstraint(f"commitment IN {COMMITMENTS}", name="commitment"),
)

creator_bindings = _fact(
    "creator_bindings",
    Column("creator", KEY, nullable=False),
    Column("authority", KEY, nullable=False),
    Column("previous_authority", KEY),
    Column("verifier", KEY, nullable=False),
)
Index(None, creator_bindings.c.creator, creator_bindings.c.slot)

gifts = _fact(
    "gifts",
    Column("creator", KEY, nullable=False),
    Column("fan", KEY, nullable=False),
    Column("mint", KEY),  # NULL for SOL
    Column("amount", AMOUNT, nullable=False),
    Column("fee", AMOUNT, nullable=False),
    Column("post_id", String(128), nullable=False, server_default=""),
    Column("memo", String(256), nullable=False, server_default=""),
    Column("derived", Boolean, nullable=False, server_default=text("false")),
    # the post id and memo as the fan sent them, where the text above had to differ (a NUL byte, invalid
    # UTF-8 replaced by U+FFFD); NULL when the text holds the bytes exactly
    Column("post_id_bytes", LargeBinary),
    Column("memo_bytes", LargeBinary),
    checks=(
        CheckConstraint("amount >= 0", name="amount"),
        CheckConstraint("fee >= 0 AND fee <= amount", name="fee"),
    ),
)
Index(None, gifts.c.creator, gifts.c.slot)
Index(None, gifts.c.fan, gifts.c.slot)
Index(None, gifts.c.post_id)
# a creator's token gifts without reading its SOL ones (the dashboards' per-token totals)
Index("ix_gifts_creator_mint_tokens", gifts.c.creator, gifts.c.mint, postgresql_where=gifts.c.mint.isnot(None))

withdrawals = _fact(
    "withdrawals",
    Column("creator", KEY, nullable=False),
    Column("authority", KEY, nullable=False),
    Column("destination", KEY, nullable=False),
    Column("mint", KEY),
    Column("amount", AMOUNT, nullable=False),
    Column("by_admin", Boolean, nullable=False),
    checks=(CheckConstraint("amount >= 0", name="amount"),),
)
Index(None, withdrawals.c.creator, withdrawals.c.slot)
Index(None, withdrawals.c.destination)

batch_payouts = _fact(
    "batch_payouts",
    Column("admin", KEY, nullable=False),
    Column("mint", KEY),
    Column("creators", Integer, nullable=False),
    Column("total", AMOUNT, nullable=False),
)

admin_actions = _fact(
    "admin_actions",
    Column("kind", String(24), nullable=False),
    Column("actor", KEY, nullable=False),
    Column("details", JSONB, nullable=False),
    checks=(
        CheckConstraint(
            "kind IN ('initialize', 'pause', 'unpause', 'fee_change', 'admin_change', 'verifier_change', 'rebind')",
            name="kind",
        ),
    ),
)

failed_attempts = Table(
    "failed_attempts",
    metadata,
    Column("signature", SIG, primary_key=True),
    Column("slot", BigInteger, nullable=False),
    Column("block_time", TS),
    Column("fee_payer", KEY, nullable=False),
    Column("instruction", Text),
    Column("error_program", KEY),
    Column("error_code", BigInteger),
    Column("error_name", Text),
    Column("err", JSONB),
    Column("commitment", String(10), nullable=False),
    CheckConstraint(f"commitment IN {COMMITMENTS}", name="commitment"),
)
Index(None, failed_attempts.c.fee_payer, failed_attempts.c.slot)

# -- ingestion bookkeeping ---------------------------------------------------------------------------

cursors = Table(
    "cursors",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("slot", BigInteger, nullable=False),
    Column("signature", SIG),
    Column("details", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    _now(),
)

# the one chain and program this warehouse holds, recorded by the first index (one row)
chain_identity = Table(
    "chain_identity",
    metadata,
    Column("id", SmallInteger, primary_key=True, server_default=text("1")),
    Column("genesis_hash", KEY, nullable=False),
    Column("program_id", KEY, nullable=False),
    Column("rpc_url", Text),
    Column("recorded_at", TS, nullable=False, server_default=func.now()),
    CheckConstraint("id = 1", name="one_row"),
)

dead_letters = Table(
    "dead_letters",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("signature", SIG),
    Column("slot", BigInteger),
    Column("stage", String(32), nullable=False),
    Column("reason", Text, nullable=False),
    Column("payload", JSONB),
    Column("created_at", TS, nullable=False, server_default=func.now()),
    UniqueConstraint("signature", "stage"),
)

# -- jobs and security ---------------------------------------------------------------------------------

anomalies = Table(
    "anomalies",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("rule", String(64), nullable=False),
    Column("severity", String(10), nullable=False),
    Column("dedup_key", Text, nullable=False, unique=True),
    Column("status", String(16), nullable=False, server_default="open"),
    Column("title", Text, nullable=False),
    Column("evidence", JSONB, nullable=False),
    Column("creator", KEY),
    Column("first_seen", TS, nullable=False, server_default=func.now()),
    Column("last_seen", TS, nullable=False, server_default=func.now()),
    Column("acted_by", Text),
    Column("acted_at", TS),
    Column("note", Text),
    CheckConstraint("severity IN ('info', 'low', 'medium', 'high', 'critical')", name="severity"),
    CheckConstraint("status IN ('open', 'acknowledged', 'resolved', 'false_positive')", name="status"),
)
Index(None, anomalies.c.status, anomalies.c.severity)
Index(None, anomalies.c.rule)

job_runs = Table(
    "job_runs",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("job", String(64), nullable=False),
    Column("started_at", TS, nullable=False),
    Column("finished_at", TS),
    Column("rows", BigInteger),
    Column("error", Text),
    Column("watermark", JSONB),
)
Index(None, job_runs.c.job, job_runs.c.started_at)

job_watermarks = Table(
    "job_watermarks",
    metadata,
    Column("job", String(64), primary_key=True),
    Column("value", JSONB, nullable=False),
    _now(),
)

webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("anomaly_id", BigInteger, nullable=False),
    Column("url", Text, nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("status_code", Integer),
    Column("error", Text),
    Column("payload_sha256", String(64), nullable=False),
    Column("delivered_at", TS, nullable=False, server_default=func.now()),
)

wallet_funding_cache = Table(
    "wallet_funding_cache",
    metadata,
    Column("wallet", KEY, primary_key=True),
    Column("funder", KEY),
    Column("funding_signature", SIG),
    Column("details", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("fetched_at", TS, nullable=False, server_default=func.now()),
)

# -- aggregates the analytics jobs fill (mint '' stands for SOL so that it can be part of a key) ---------

_SOL = ""


def _aggregate(name: str, *columns: Column[object], key: tuple[str, ...]) -> Table:
    return Table(name, metadata, *columns, PrimaryKeyConstraint(*key))


creator_daily_earnings = _aggregate(
    "creator_daily_earnings",
    Column("creator", KEY, nullable=False),
    Column("day", Date, nullable=False),
    Column("mint", String(44), nullable=False, server_default=_SOL),
    Column("settled_gross", AMOUNT, nullable=False),
    Column("settled_fees", AMOUNT, nullable=False),
    Column("settled_net", AMOUNT, nullable=False),
    Column("pending_gross", AMOUNT, nullable=False),
    Column("pending_fees", AMOUNT, nullable=False),
    Column("pending_net", AMOUNT, nullable=False),
    Column("gift_count", Integer, nullable=False),
    Column("unique_fans", Integer, nullable=False),
    key=("creator", "day", "mint"),
)

post_earnings = _aggregate(
    "post_earnings",
    Column("creator", KEY, nullable=False),
    Column("post_id", String(128), nullable=False),
    Column("mint", String(44), nullable=False, server_default=_SOL),
    Column("gross", AMOUNT, nullable=False),
    Column("fees", AMOUNT, nullable=False),
    Column("gift_count", Integer, nullable=False),
    Column("unique_fans", Integer, nullable=False),
    key=("creator", "post_id", "mint"),
)

top_supporters = _aggregate(
    "top_supporters",
    Column("creator", KEY, nullable=False),
    Column("mint", String(44), nullable=False, server_default=_SOL),
    Column("fan", KEY, nullable=False),
    Column("total", AMOUNT, nullable=False),
    Column("gift_count", Integer, nullable=False),
    Column("first_gift_at", TS),
    Column("last_gift_at", TS),
    Column("rank", Integer, nullable=False),
    key=("creator", "mint", "fan"),
)

supporter_cohorts = _aggregate(
    "supporter_cohorts",
    Column("creator", String(44), nullable=False),  # '' for the whole platform
    Column("cohort_month", Date, nullable=False),
    Column("month_offset", Integer, nullable=False),
    Column("fans", Integer, nullable=False),
    Column("repeat_rate", Numeric(9, 6)),
    key=("creator", "cohort_month", "month_offset"),
)

gift_size_buckets = _aggregate(
    "gift_size_buckets",
    Column("mint", String(44), nullable=False, server_default=_SOL),
    Column("bucket_lower", AMOUNT, nullable=False),
    Column("bucket_upper", AMOUNT),
    Column("gift_count", Integer, nullable=False),
    Column("total", AMOUNT, nullable=False),
    key=("mint", "bucket_lower"),
)

escrow_ledger = _aggregate(
    "escrow_ledger",
    Column("creator", KEY, nullable=False),
    Column("platform", String(16), nullable=False),
    Column("handle", String(32), nullable=False),
    Column("waiting_amount", AMOUNT, nullable=False),
    Column("waiting_gifts", Integer, nullable=False),
    Column("oldest_gift_at", TS),
    Column("bound_at", TS),
    Column("time_to_bind_seconds", BigInteger),
    key=("creator",),
)

payout_summaries = _aggregate(
    "payout_summaries",
    Column("signature", SIG, nullable=False),
    Column("ix_path", String(32), nullable=False),
    Column("creator", KEY, nullable=False),
    Column("mint", String(44), nullable=False, server_default=_SOL),
    Column("amount", AMOUNT, nullable=False),
    Column("by_admin", Boolean, nullable=False),
    Column("slot", BigInteger, nullable=False),
    Column("block_time", TS),
    key=("signature", "ix_path", "creator"),
)

payout_totals = _aggregate(
    "payout_totals",
    Column("creator", KEY, nullable=False),
    Column("mint", String(44), nullable=False, server_default=_SOL),
    Column("payouts", Integer, nullable=False),
    Column("total", AMOUNT, nullable=False),
    Column("admin_payouts", Integer, nullable=False),  # paid out by the admin (a batch payout)
    Column("admin_total", AMOUNT, nullable=False),
    Column("last_payout_at", TS),
    key=("creator", "mint"),
)

payout_batches = _aggregate(
    "payout_batches",
    Column("signature", SIG, nullable=False),
    Column("ix_path", String(32), nullable=False),
    Column("mint", String(44), nullable=False, server_default=_SOL),
    Column("creators", Integer, nullable=False),
    Column("total", AMOUNT, nullable=False),
    Column("largest", AMOUNT, nullable=False),
    Column("slot", BigInteger, nullable=False),
    Column("block_time", TS),
    key=("signature", "ix_path", "mint"),
)

platform_kpis_daily = _aggregate(
    "platform_kpis_daily",
    Column("day", Date, nullable=False),
    Column("volume_lamports", AMOUNT, nullable=False),
    Column("fees_lamports", AMOUNT, nullable=False),
    Column("gift_count", Integer, nullable=False),
    Column("active_fans", Integer, nullable=False),
    Column("active_creators", Integer, nullable=False),
    Column("vault_value_lamports", AMOUNT, nullable=False),
    key=("day",),
)

# The jobs scheduler's store (APScheduler's SQLAlchemyJobStore layout), created by a migration like every table.
apscheduler_jobs = Table(
    "apscheduler_jobs",
    metadata,
    Column("id", String(191), primary_key=True),
    Column("next_run_time", Float(25)),
    Column("job_state", LargeBinary, nullable=False),
)
Index(None, apscheduler_jobs.c.next_run_time)

FACT_TABLES = (creator_bindings, gifts, withdrawals, batch_payouts, admin_actions)

# -- views: balances that the jobs, the API and the dashboards all read; they must stay exact ----------

# Per-creator LATERAL sums, so that a filter on a creator (platform, handle_key) reaches the gift index
# instead of aggregating every creator's gifts first.
_CREATOR_BALANCES = """
CREATE VIEW creator_balances AS
SELECT c.platform, c.handle, c.handle_key, c.creator, b.authority,
       g.gifted, g.fees, w.withdrawn,
       g.gifted - g.fees - w.withdrawn AS balance,
       g.gift_count,
       g.settled_gifted - g.settled_fees - w.settled_withdrawn AS settled_balance
FROM creators c
LEFT JOIN LATERAL (
    SELECT cb.authority FROM creator_bindings cb WHERE cb.creator = c.creator
    ORDER BY cb.slot DESC, cb.tx_index DESC NULLS LAST, cb.signature DESC LIMIT 1
) b ON true
CROSS JOIN LATERAL (
    SELECT COALESCE(sum(amount), 0) AS gifted, COALESCE(sum(fee), 0) AS fees, count(*) AS gift_count,
           COALESCE(sum(amount) FILTER (WHERE commitment = 'finalized'), 0) AS settled_gifted,
           COALESCE(sum(fee) FILTER (WHERE commitment = 'finalized'), 0) AS settled_fees
    FROM gifts WHERE creator = c.creator AND mint IS NULL
) g
CROSS JOIN LATERAL (
    SELECT COALESCE(sum(amount), 0) AS withdrawn,
           COALESCE(sum(amount) FILTER (WHERE commitment = 'finalized'), 0) AS settled_withdrawn
    FROM withdrawals WHERE creator = c.creator AND mint IS NULL
) w
"""

_CREATOR_TOKEN_BALANCES = """
CREATE VIEW creator_token_balances AS
SELECT c.platform, c.handle, c.handle_key, c.creator, m.mint,
       g.gifted, g.fees, w.withdrawn,
       g.gifted - g.fees - w.withdrawn AS balance
FROM creators c
CROSS JOIN LATERAL (
    SELECT mint FROM gifts WHERE creator = c.creator AND mint IS NOT NULL
    UNION SELECT mint FROM withdrawals WHERE creator = c.creator AND mint IS NOT NULL
) m
CROSS JOIN LATERAL (
    SELECT COALESCE(sum(amount), 0) AS gifted, COALESCE(sum(fee), 0) AS fees
    FROM gifts WHERE creator = c.creator AND mint = m.mint
) g
CROSS JOIN LATERAL (
    SELECT COALESCE(sum(amount), 0) AS withdrawn FROM withdrawals WHERE creator = c.creator AND mint = m.mint
) w
"""

# name -> CREATE statement, in creation order; migrations create and drop them.
VIEWS: dict[str, str] = {
    "creator_balances": _CREATOR_BALANCES.strip(),
    "creator_token_balances": _CREATOR_TOKEN_BALANCES.strip(),
}
