"""the exact bytes of gifts' memos and post ids; the chain and program a warehouse belongs to

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 04:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # NULL: the text column holds the bytes exactly; else the bytes as the fan sent them
    op.add_column("gifts", sa.Column("post_id_bytes", sa.LargeBinary(), nullable=True))
    op.add_column("gifts", sa.Column("memo_bytes", sa.LargeBinary(), nullable=True))
    op.create_table(
        "chain_identity",
        sa.Column("id", sa.SmallInteger(), server_default=sa.text("1"), nullable=False),
        sa.Column("genesis_hash", sa.String(length=44), nullable=False),
        sa.Column("program_id", sa.String(length=44), nullable=False),
        sa.Column("rpc_url", sa.Text(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_chain_identity_one_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chain_identity")),
    )


def downgrade() -> None:
    op.drop_table("chain_identity")
    op.drop_column("gifts", "memo_bytes")
    op.drop_column("gifts", "post_id_bytes")
