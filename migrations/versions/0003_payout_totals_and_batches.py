"""payouts per creator and per batch; an index of creators' token gifts

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 23:55:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "payout_totals",
        sa.Column("creator", sa.String(length=44), nullable=False),
        sa.Column("mint", sa.String(length=44), server_default="", nullable=False),
        sa.Column("payouts", sa.Integer(), nullable=False),
        sa.Column("total", sa.Numeric(precision=39, scale=0), nullable=False),
        sa.Column("admin_payouts", sa.Integer(), nullable=False),
        sa.Column("admin_total", sa.Numeric(precision=39, scale=0), nullable=False),
        sa.Column("last_payout_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("creator", "mint", name=op.f("pk_payout_totals")),
    )
    op.create_table(
        "payout_batches",
        sa.Column("signature", sa.String(length=88), nullable=False),
        sa.Column("ix_path", sa.String(length=32), nullable=False),
        sa.Column("mint", sa.String(length=44), server_default="", nullable=False),
        sa.Column("creators", sa.Integer(), nullable=False),
        sa.Column("total", sa.Numeric(precision=39, scale=0), nullable=False),
        sa.Column("largest", sa.Numeric(precision=39, scale=0), nullable=False),
        sa.Column("slot", sa.BigInteger(), nullable=False),
        sa.Column("block_time", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("signature", "ix_path", "mint", name=op.f("pk_payout_batches")),
    )

    op.create_index(
        "ix_gifts_creator_mint_tokens", "gifts", ["creator", "mint"], unique=False,
        postgresql_where=sa.text("mint IS NOT NULL"),
    )  # fmt: skip


def downgrade() -> None:
    op.drop_index("ix_gifts_creator_mint_tokens", table_name="gifts")
    op.drop_table("payout_batches")
    op.drop_table("payout_totals")
