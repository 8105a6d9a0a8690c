"""The change history: one row per event, each instance's chain head and retention anchor.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The chain's head (last sequence and hash) and its anchor (the last event retention deleted)
    # live on the instance's row, which every writer of the instance locks already.
    with op.batch_alter_table("instances") as batch:
        batch.add_column(sa.Column("history_sequence", sa.BigInteger, nullable=False, server_default="0"))
        batch.add_column(sa.Column("history_hash", sa.String(64), nullable=False, server_default=""))
        batch.add_column(
            sa.Column("history_anchor_sequence", sa.BigInteger, nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("history_anchor_hash", sa.String(64), nullable=False, server_default=""))
    op.create_table(
        "history_events",
        sa.Column("instance_id", sa.String(200), primary_key=True),
        sa.Column("sequence", sa.BigInteger, primary_key=True),
        sa.Column("type", sa.String(100), nullable=False),
        sa.Column("created_us", sa.BigInteger, nullable=False),
        sa.Column("provider_id", sa.String(100), nullable=False),
        sa.Column("actor_token_id", sa.String(32), nullable=False),
        sa.Column("actor", sa.JSON, nullable=False),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("changes", sa.JSON, nullable=False),
        sa.Column("secrets", sa.JSON, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.create_index("history_by_type", "history_events", ["instance_id", "type", "sequence"])
    op.create_index("history_by_provider", "history_events", ["instance_id", "provider_id", "sequence"])
    op.create_index("history_by_actor", "history_events", ["instance_id", "actor_token_id", "sequence"])
    op.create_index("history_by_time", "history_events", ["instance_id", "created_us"])


def downgrade() -> None:
    op.drop_table("history_events")
    with op.batch_alter_table("instances") as batch:
        batch.drop_column("history_anchor_hash")
        batch.drop_column("history_anchor_sequence")
        batch.drop_column("history_hash")
        batch.drop_column("history_sequence")
