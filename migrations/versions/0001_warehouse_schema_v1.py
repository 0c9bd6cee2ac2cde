"""warehouse schema v1

Revision ID: 0001
Revises:
Create Date: 2026-11-24 01:33:27.347855
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# The views as of this revision (a later change to a view is a new revision, not an edit here).
VIEWS = {
    "creator_balances": """
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
""",
    "creator_token_balances": """
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
""",
}


def upgrade() -> None:
    op.create_table(
        "admin_actions",
        sa.Column("signature", sa.String(length=88), nullable=False),
        sa.Column("ix_path", sa.String(length=32), nullable=False),
        sa.Column("event_index", sa.Integer(), nullable=False),
        sa.Column("slot", sa.BigInteger(), nullable=False),
        sa.Column("tx_index", sa.Integer(), nullable=True),
        sa.Column("block_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("commitment", sa.String(length=10), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("actor", sa.String(length=44), nullable=False),
        sa.Column("details", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.CheckConstraint("commitment IN ('confirmed', 'finalized')", name=op.f("ck_admin_actions_commitment")),
        sa.CheckConstraint(
            "kind IN ('initialize', 'pause', 'unpause', 'fee_change', 'admin_change', 'verifier_change', 'rebind')",
            name=op.f("ck_admin_actions_kind"),
        ),
        sa.PrimaryKeyConstraint("signature", "ix_path", "event_index", name=op.f("pk_admin_actions")),
    )
    op.create_index(op.f("ix_admin_actions_slot"), "admin_actions", ["slot"], unique=False)
    op.create_table(
        "anomalies",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("rule", sa.String(length=64), nullable=False),
        sa.Column("severity", sa.String(length=10), nullable=False),
        sa.Column("dedup_key", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), server_default="open", nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("evidence", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("creator", sa.String(length=44), nullable=True),
        sa.Column("first_seen", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("acted_by", sa.Text(), nullable=True),
        sa.Column("acted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "severity IN ('info', 'low', 'medium', 'high', 'critical')", name=op.f("ck_anomalies_severity")
        ),
        sa.CheckConstraint(
            "status IN ('open', 'acknowledged', 'resolved', 'false_positive')",
            name=op.f("ck_anomalies_status"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_anomalies")),
        sa.UniqueConstraint("dedup_key", name=op.f("uq_anomalies_dedup_key")),
    )
    op.create_index(op.f("ix_anomalies_rule"), "anomalies", ["rule"], unique=False)
    op.create_index(op.f("ix_anomalies_status_severity"), "anomalies", ["status", "severity"], unique=False)
    op.create_table(
        "batch_payouts",
        sa.Column("signature", sa.String(length=88), nullable=False),
        sa.Column("ix_path", sa.String(length=32), nullable=False),
        sa.Column("event_index", sa.Integer(), nullable=False),
        sa.Column("slot", sa.BigInteger(), nullable=False),
        sa.Column("tx_index", sa.Integer(), nullable=True),
        sa.Column("block_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("commitment", sa.String(length=10), nullable=False),
        sa.Column("admin", sa.String(length=44), nullable=False),
        sa.Column("mint", sa.String(length=44), nullable=True),
        sa.Column("creators", sa.Integer(), nullable=False),
        sa.Column("total", sa.Numeric(precision=39, scale=0), nullable=False),
        sa.CheckConstraint("commitment IN ('confirmed', 'finalized')", name=op.f("ck_batch_payouts_commitment")),
        sa.PrimaryKeyConstraint("signature", "ix_path", "event_index", name=op.f("pk_batch_payouts")),
    )
    op.create_index(op.f("ix_batch_payouts_slot"), "batch_payouts", ["slot"], unique=False)
    op.create_table(
        "creator_bindings",
        sa.Column("signature", sa.String(length=88), nullable=False),
        sa.Column("ix_path", sa.String(length=32), nullable=False),
        sa.Column("event_index", sa.Integer(), nullable=False),
        sa.Column("slot", sa.BigInteger(), nullable=False),
        sa.Column("tx_index", sa.Integer(), nullable=True),
        sa.Column("block_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("commitment", sa.String(length=10), nullable=False),
        sa.Column("creator", sa.String(length=44), nullable=False),
        sa.Column("authority", sa.String(length=44), nullable=False),
        sa.Column("previous_authority", sa.String(length=44), nullable=True),
        sa.Column("verifier", sa.String(length=44), nullable=False),
        sa.CheckConstraint("commitment IN ('confirmed', 'finalized')", name=op.f("ck_creator_bindings_commitment")),
        sa.PrimaryKeyConstraint("signature", "ix_path", "event_index", name=op.f("pk_creator_bindings")),
    )
    op.create_index(op.f("ix_creator_bindings_creator_slot"), "creator_bindings", ["creator", "slot"], unique=False)
    op.create_index(op.f("ix_creator_bindings_slot"), "creator_bindings", ["slot"], unique=False)
    op.create_table(
        "creator_daily_earnings",
        sa.Column("creator", sa.String(length=44), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("mint", sa.String(length=44), server_default="", nullable=False),
        sa.Column("settled_gross", sa.Numeric(precision=39, scale=0), nullable=False),
        sa.Column("settled_fees", sa.Numeric(precision=39, scale=0), nullable=False),
        sa.Column("settled_net", sa.Numeric(precision=39, scale=0), nullable=False),
        sa.Column("pending_gross", sa.Numeric(precision=39, scale=0), nullable=False),
        sa.Column("pending_fees", sa.Numeric(precision=39, scale=0), nullable=False),
        sa.Column("pending_net", sa.Numeric(precision=39, scale=0), nullable=False),
        sa.Column("gift_count", sa.Integer(), nullable=False),
        sa.Column("unique_fans", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("creator", "day", "mint", name=op.f("pk_creator_daily_earnings")),
    )
    op.create_table(
        "creators",
        sa.Column("creator", sa.String(length=44), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("handle", sa.String(length=32), nullable=False),
        sa.Column("handle_key", sa.String(length=32), nullable=False),
        sa.Column("registered_by", sa.String(length=44), nullable=True),
        sa.Column("signature", sa.String(length=88), nullable=False),
        sa.Column("slot", sa.BigInteger(), nullable=False),
        sa.Column("block_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("commitment", sa.String(length=10), nullable=False),
        sa.CheckConstraint("commitment IN ('confirmed', 'finalized')", name=op.f("ck_creators_commitment")),
        sa.CheckConstraint("platform ~ '^[a-z0-9_]{1,16}$'", name=op.f("ck_creators_platform_name")),
        sa.CheckConstraint("handle_key = lower(handle_key)", name=op.f("ck_creators_handle_key_lower")),
        sa.PrimaryKeyConstraint("creator", name=op.f("pk_creators")),
        sa.UniqueConstraint("platform", "handle_key", name=op.f("uq_creators_platform_handle_key")),
    )
    op.create_table(
        "cursors",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("slot", sa.BigInteger(), nullable=False),
        sa.Column("signature", sa.String(length=88), nullable=True),
        sa.Column(
            "details",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_cursors")),
    )
    op.create_table(
        "dead_letters",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("signature", sa.String(length=88), nullable=True),
        sa.Column("slot", sa.BigInteger(), nullable=True),
        sa.Column("stage", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dead_letters")),
        sa.UniqueConstraint("signature", "stage", name=op.f("uq_dead_letters_signature_stage")),
    )
    op.create_table(
        "decoded_events",
        sa.Column("signature", sa.String(length=88), nullable=False),
        sa.Column("ix_path", sa.String(length=32), nullable=False),
        sa.Column("event_index", sa.Integer(), nullable=False),
        sa.Column("slot", sa.BigInteger(), nullable=False),
        sa.Column("program_id", sa.String(length=44), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("fields", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("derived", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("drift", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("extra_hex", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("signature", "ix_path", "event_index", name=op.f("pk_decoded_events")),
    )
    op.create_index(op.f("ix_decoded_events_program_id_name"), "decoded_events", ["program_id", "name"], unique=False)
    op.create_index(op.f("ix_decoded_events_slot"), "decoded_events", ["slot"], unique=False)
    op.create_table(
        "decoded_instructions",
        sa.Column("signature", sa.String(length=88), nullable=False),
        sa.Column("ix_path", sa.String(length=32), nullable=False),
        sa.Column("slot", sa.BigInteger(), nullable=False),
        sa.Column("program_id", sa.String(length=44), nullable=False),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("args", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("accounts", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("derived", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.PrimaryKeyConstraint("signature", "ix_path", name=op.f("pk_decoded_instructions")),
    )
    op.create_index(
        op.f("ix_decoded_instructions_program_id_name"),
        "decoded_instructions",
        ["program_id", "name"],
        unique=False,
    )
    op.create_table(
        "escrow_ledger",
        sa.Column("creator", sa.String(length=44), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("handle", sa.String(length=32), nullable=False),
        sa.Column("waiting_amount", sa.Numeric(precision=39, scale=0), nullable=False),
        sa.Column("waiting_gifts", sa.Integer(), nullable=False),
        sa.Column("oldest_gift_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("bound_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("time_to_bind_seconds", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("creator", name=op.f("pk_escrow_ledger")),
    )
    op.create_table(
        "failed_attempts",
        sa.Column("signature", sa.String(length=88), nullable=False),
        sa.Column("slot", sa.BigInteger(), nullable=False),
        sa.Column("block_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("fee_payer", sa.String(length=44), nullable=False),
        sa.Column("instruction", sa.Text(), nullable=True),
        sa.Column("error_program", sa.String(length=44), nullable=True),
        sa.Column("error_code", sa.BigInteger(), nullable=True),
        sa.Column("error_name", sa.Text(), nullable=True),
        sa.Column("err", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("commitment", sa.String(length=10), nullable=False),
        sa.CheckConstraint("commitment IN ('confirmed', 'finalized')", name=op.f("ck_failed_attempts_commitment")),
        sa.PrimaryKeyConstraint("signature", name=op.f("pk_failed_attempts")),
    )
    op.create_index(op.f("ix_failed_attempts_fee_payer_slot"), "failed_attempts", ["fee_payer", "slot"], unique=False)
    op.create_table(
        "gift_size_buckets",
        sa.Column("mint", sa.String(length=44), server_default="", nullable=False),
        sa.Column("bucket_lower", sa.Numeric(precision=39, scale=0), nullable=False),
        sa.Column("bucket_upper", sa.Numeric(precision=39, scale=0), nullable=True),
        sa.Column("gift_count", sa.Integer(), nullable=False),
        sa.Column("total", sa.Numeric(precision=39, scale=0), nullable=False),
        sa.PrimaryKeyConstraint("mint", "bucket_lower", name=op.f("pk_gift_size_buckets")),
    )
    op.create_table(
        "gifts",
        sa.Column("signature", sa.String(length=88), nullable=False),
        sa.Column("ix_path", sa.String(length=32), nullable=False),
        sa.Column("event_index", sa.Integer(), nullable=False),
        sa.Column("slot", sa.BigInteger(), nullable=False),
        sa.Column("tx_index", sa.Integer(), nullable=True),
        sa.Column("block_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("commitment", sa.String(length=10), nullable=False),
        sa.Column("creator", sa.String(length=44), nullable=False),
        sa.Column("fan", sa.String(length=44), nullable=False),
        sa.Column("mint", sa.String(length=44), nullable=True),
        sa.Column("amount", sa.Numeric(precision=39, scale=0), nullable=False),
        sa.Column("fee", sa.Numeric(precision=39, scale=0), nullable=False),
        sa.Column("post_id", sa.String(length=128), server_default="", nullable=False),
        sa.Column("memo", sa.String(length=256), server_default="", nullable=False),
        sa.Column("derived", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.CheckConstraint("commitment IN ('confirmed', 'finalized')", name=op.f("ck_gifts_commitment")),
        sa.CheckConstraint("amount >= 0", name=op.f("ck_gifts_amount")),
        sa.CheckConstraint("fee >= 0 AND fee <= amount", name=op.f("ck_gifts_fee")),
        sa.PrimaryKeyConstraint("signature", "ix_path", "event_index", name=op.f("pk_gifts")),
    )
    op.create_index(op.f("ix_gifts_creator_slot"), "gifts", ["creator", "slot"], unique=False)
    op.create_index(op.f("ix_gifts_fan_slot"), "gifts", ["fan", "slot"], unique=False)
    op.create_index(op.f("ix_gifts_post_id"), "gifts", ["post_id"], unique=False)
    op.create_index(op.f("ix_gifts_slot"), "gifts", ["slot"], unique=False)
    op.create_table(
        "job_runs",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("job", sa.String(length=64), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rows", sa.BigInteger(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("watermark", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_runs")),
    )
    op.create_index(op.f("ix_job_runs_job_started_at"), "job_runs", ["job", "started_at"], unique=False)
    op.create_table(
        "job_watermarks",
        sa.Column("job", sa.String(length=64), nullable=False),
        sa.Column("value", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("job", name=op.f("pk_job_watermarks")),
    )
    op.create_table(
        "payout_summaries",
        sa.Column("signature", sa.String(length=88), nullable=False),
        sa.Column("ix_path", sa.String(length=32), nullable=False),
        sa.Column("creator", sa.String(length=44), nullable=False),
        sa.Column("mint", sa.String(length=44), server_default="", nullable=False),
        sa.Column("amount", sa.Numeric(precision=39, scale=0), nullable=False),
        sa.Column("by_admin", sa.Boolean(), nullable=False),
        sa.Column("slot", sa.BigInteger(), nullable=False),
        sa.Column("block_time", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("signature", "ix_path", "creator", name=op.f("pk_payout_summaries")),
    )
    op.create_table(
        "platform_kpis_daily",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("volume_lamports", sa.Numeric(precision=39, scale=0), nullable=False),
        sa.Column("fees_lamports", sa.Numeric(precision=39, scale=0), nullable=False),
        sa.Column("gift_count", sa.Integer(), nullable=False),
        sa.Column("active_fans", sa.Integer(), nullable=False),
        sa.Column("active_creators", sa.Integer(), nullable=False),
        sa.Column("vault_value_lamports", sa.Numeric(precision=39, scale=0), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_platform_kpis_daily")),
    )
    op.create_table(
        "post_earnings",
        sa.Column("creator", sa.String(length=44), nullable=False),
        sa.Column("post_id", sa.String(length=128), nullable=False),
        sa.Column("mint", sa.String(length=44), server_default="", nullable=False),
        sa.Column("gross", sa.Numeric(precision=39, scale=0), nullable=False),
        sa.Column("fees", sa.Numeric(precision=39, scale=0), nullable=False),
        sa.Column("gift_count", sa.Integer(), nullable=False),
        sa.Column("unique_fans", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("creator", "post_id", "mint", name=op.f("pk_post_earnings")),
    )
    op.create_table(
        "slots",
        sa.Column("slot", sa.BigInteger(), nullable=False),
        sa.Column("parent_slot", sa.BigInteger(), nullable=True),
        sa.Column("block_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("status IN ('processed', 'confirmed', 'finalized', 'dead')", name=op.f("ck_slots_status")),
        sa.PrimaryKeyConstraint("slot", name=op.f("pk_slots")),
    )
    op.create_index(op.f("ix_slots_status_slot"), "slots", ["status", "slot"], unique=False)
    op.create_table(
        "supporter_cohorts",
        sa.Column("creator", sa.String(length=44), nullable=False),
        sa.Column("cohort_month", sa.Date(), nullable=False),
        sa.Column("month_offset", sa.Integer(), nullable=False),
        sa.Column("fans", sa.Integer(), nullable=False),
        sa.Column("repeat_rate", sa.Numeric(precision=9, scale=6), nullable=True),
        sa.PrimaryKeyConstraint("creator", "cohort_month", "month_offset", name=op.f("pk_supporter_cohorts")),
    )
    op.create_table(
        "top_supporters",
        sa.Column("creator", sa.String(length=44), nullable=False),
        sa.Column("mint", sa.String(length=44), server_default="", nullable=False),
        sa.Column("fan", sa.String(length=44), nullable=False),
        sa.Column("total", sa.Numeric(precision=39, scale=0), nullable=False),
        sa.Column("gift_count", sa.Integer(), nullable=False),
        sa.Column("first_gift_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_gift_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("creator", "mint", "fan", name=op.f("pk_top_supporters")),
    )
    op.create_table(
        "transactions",
        sa.Column("signature", sa.String(length=88), nullable=False),
        sa.Column("slot", sa.BigInteger(), nullable=False),
        sa.Column("tx_index", sa.Integer(), nullable=True),
        sa.Column("block_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("success", sa.Boolean(), nullable=False),
        sa.Column("err", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("error_program", sa.String(length=44), nullable=True),
        sa.Column("error_code", sa.BigInteger(), nullable=True),
        sa.Column("error_name", sa.Text(), nullable=True),
        sa.Column("fee", sa.BigInteger(), nullable=False),
        sa.Column("compute_units", sa.BigInteger(), nullable=True),
        sa.Column("logs_truncated", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("fee_payer", sa.String(length=44), nullable=False),
        sa.Column("commitment", sa.String(length=10), nullable=False),
        sa.CheckConstraint("commitment IN ('confirmed', 'finalized')", name=op.f("ck_transactions_commitment")),
        sa.CheckConstraint("fee >= 0", name=op.f("ck_transactions_fee")),
        sa.PrimaryKeyConstraint("signature", name=op.f("pk_transactions")),
    )
    op.create_index(op.f("ix_transactions_fee_payer"), "transactions", ["fee_payer"], unique=False)
    op.create_index(op.f("ix_transactions_slot"), "transactions", ["slot"], unique=False)
    op.create_table(
        "wallet_funding_cache",
        sa.Column("wallet", sa.String(length=44), nullable=False),
        sa.Column("funder", sa.String(length=44), nullable=True),
        sa.Column("funding_signature", sa.String(length=88), nullable=True),
        sa.Column(
            "details",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("fetched_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("wallet", name=op.f("pk_wallet_funding_cache")),
    )
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("anomaly_id", sa.BigInteger(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("payload_sha256", sa.String(length=64), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_deliveries")),
    )
    op.create_table(
        "withdrawals",
        sa.Column("signature", sa.String(length=88), nullable=False),
        sa.Column("ix_path", sa.String(length=32), nullable=False),
        sa.Column("event_index", sa.Integer(), nullable=False),
        sa.Column("slot", sa.BigInteger(), nullable=False),
        sa.Column("tx_index", sa.Integer(), nullable=True),
        sa.Column("block_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("commitment", sa.String(length=10), nullable=False),
        sa.Column("creator", sa.String(length=44), nullable=False),
        sa.Column("authority", sa.String(length=44), nullable=False),
        sa.Column("destination", sa.String(length=44), nullable=False),
        sa.Column("mint", sa.String(length=44), nullable=True),
        sa.Column("amount", sa.Numeric(precision=39, scale=0), nullable=False),
        sa.Column("by_admin", sa.Boolean(), nullable=False),
        sa.CheckConstraint("commitment IN ('confirmed', 'finalized')", name=op.f("ck_withdrawals_commitment")),
        sa.CheckConstraint("amount >= 0", name=op.f("ck_withdrawals_amount")),
        sa.PrimaryKeyConstraint("signature", "ix_path", "event_index", name=op.f("pk_withdrawals")),
    )
    op.create_index(op.f("ix_withdrawals_creator_slot"), "withdrawals", ["creator", "slot"], unique=False)
    op.create_index(op.f("ix_withdrawals_destination"), "withdrawals", ["destination"], unique=False)
    op.create_index(op.f("ix_withdrawals_slot"), "withdrawals", ["slot"], unique=False)

    for statement in VIEWS.values():
        op.execute(statement)


def downgrade() -> None:
    for name in reversed(VIEWS):
        op.execute(f"DROP VIEW IF EXISTS {name}")
    op.drop_index(op.f("ix_withdrawals_slot"), table_name="withdrawals")
    op.drop_index(op.f("ix_withdrawals_destination"), table_name="withdrawals")
    op.drop_index(op.f("ix_withdrawals_creator_slot"), table_name="withdrawals")
    op.drop_table("withdrawals")
    op.drop_table("webhook_deliveries")
    op.drop_table("wallet_funding_cache")
    op.drop_index(op.f("ix_transactions_slot"), table_name="transactions")
    op.drop_index(op.f("ix_transactions_fee_payer"), table_name="transactions")
    op.drop_table("transactions")
    op.drop_table("top_supporters")
    op.drop_table("supporter_cohorts")
    op.drop_index(op.f("ix_slots_status_slot"), table_name="slots")
    op.drop_table("slots")
    op.drop_table("post_earnings")
    op.drop_table("platform_kpis_daily")
    op.drop_table("payout_summaries")
    op.drop_table("job_watermarks")
    op.drop_index(op.f("ix_job_runs_job_started_at"), table_name="job_runs")
    op.drop_table("job_runs")
    op.drop_index(op.f("ix_gifts_slot"), table_name="gifts")
    op.drop_index(op.f("ix_gifts_post_id"), table_name="gifts")
    op.drop_index(op.f("ix_gifts_fan_slot"), table_name="gifts")
    op.drop_index(op.f("ix_gifts_creator_slot"), table_name="gifts")
    op.drop_table("gifts")
    op.drop_table("gift_size_buckets")
    op.drop_index(op.f("ix_failed_attempts_fee_payer_slot"), table_name="failed_attempts")
    op.drop_table("failed_attempts")
    op.drop_table("escrow_ledger")
    op.drop_index(op.f("ix_decoded_instructions_program_id_name"), table_name="decoded_instructions")
    op.drop_table("decoded_instructions")
    op.drop_index(op.f("ix_decoded_events_slot"), table_name="decoded_events")
    op.drop_index(op.f("ix_decoded_events_program_id_name"), table_name="decoded_events")
    op.drop_table("decoded_events")
    op.drop_table("dead_letters")
    op.drop_table("cursors")
    op.drop_table("creators")
    op.drop_table("creator_daily_earnings")
    op.drop_index(op.f("ix_creator_bindings_slot"), table_name="creator_bindings")
    op.drop_index(op.f("ix_creator_bindings_creator_slot"), table_name="creator_bindings")
    op.drop_table("creator_bindings")
    op.drop_index(op.f("ix_batch_payouts_slot"), table_name="batch_payouts")
    op.drop_table("batch_payouts")
    op.drop_index(op.f("ix_anomalies_status_severity"), table_name="anomalies")
    op.drop_index(op.f("ix_anomalies_rule"), table_name="anomalies")
    op.drop_table("anomalies")
    op.drop_index(op.f("ix_admin_actions_slot"), table_name="admin_actions")
    op.drop_table("admin_actions")
