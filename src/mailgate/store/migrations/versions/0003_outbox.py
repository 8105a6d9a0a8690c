"""The outbox: messages, their attempts, the instances' fallback providers and provider health.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "messages",
        sa.Column("instance_id", sa.String(200), primary_key=True),
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("recipients", sa.JSON, nullable=False),
        sa.Column("subject_sealed", sa.Text, nullable=False),
        sa.Column("text_sealed", sa.Text),
        sa.Column("html_sealed", sa.Text),
        sa.Column("reply_to", sa.String(200), nullable=False),
        sa.Column("headers", sa.JSON, nullable=False),
        sa.Column("category", sa.String(100), nullable=False),
        sa.Column("message_id", sa.String(255), nullable=False),
        sa.Column("idempotency_key", sa.String(200)),
        sa.Column("request_hash", sa.String(64)),
        sa.Column("sender_token_id", sa.String(32), nullable=False),
        sa.Column("created_us", sa.BigInteger, nullable=False),
        sa.Column("updated_us", sa.BigInteger, nullable=False),
        sa.Column("expires_us", sa.BigInteger, nullable=False),
        sa.Column("next_attempt_us", sa.BigInteger),
        sa.Column("attempts_made", sa.Integer, nullable=False),
        sa.Column("max_attempts", sa.Integer, nullable=False),
        sa.Column("provider_id", sa.String(100)),
        sa.Column("claimed_by", sa.String(64)),
        sa.Column("claimed_until_us", sa.BigInteger),
        sa.Column("sent_us", sa.BigInteger),
        sa.Column("final_us", sa.BigInteger),
    )
    op.create_index(
        "one_message_per_idempotency_key",
        "messages",
        ["instance_id", "idempotency_key"],
        unique=True,
        sqlite_where=sa.text("idempotency_key IS NOT NULL"),
        postgresql_where=sa.text("idempotency_key IS NOT NULL"),
    )
    op.create_index("messages_due", "messages", ["state", "next_attempt_us"])
    op.create_index("messages_by_creation", "messages", ["instance_id", "created_us", "id"])
    op.create_index("messages_final", "messages", ["final_us"])
    op.create_table(
        "message_attempts",
        sa.Column("instance_id", sa.String(200), primary_key=True),
        sa.Column("message_id", sa.String(32), primary_key=True),
        sa.Column("number", sa.Integer, primary_key=True),
        sa.Column("at_us", sa.BigInteger, nullable=False),
        sa.Column("provider_id", sa.String(100), nullable=False),
        sa.Column("reply_class", sa.String(16), nullable=False),
        sa.Column("stage", sa.String(16), nullable=False),
        sa.Column("reply_code", sa.Integer, nullable=False),
        sa.Column("enhanced_status_code", sa.String(16), nullable=False),
        sa.Column("reply_text", sa.String(1000), nullable=False),
        sa.Column("detail", sa.String(1000), nullable=False),
        sa.Column("duration_ms", sa.Integer, nullable=False),
        sa.Column("steps", sa.JSON, nullable=False),
    )
    op.create_table(
        "delivery_fallbacks",
        sa.Column("instance_id", sa.String(200), primary_key=True),
        sa.Column("position", sa.Integer, primary_key=True),
        sa.Column("provider_id", sa.String(100), nullable=False),
    )
    op.create_index(
        "one_fallback_entry_per_provider", "delivery_fallbacks", ["instance_id", "provider_id"], unique=True
    )
    op.create_table(
        "provider_health",
        sa.Column("instance_id", sa.String(200), primary_key=True),
        sa.Column("provider_id", sa.String(100), primary_key=True),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("consecutive_faults", sa.Integer, nullable=False),
        sa.Column("open_until_us", sa.BigInteger),
        sa.Column("changed_us", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("provider_health")
    op.drop_index("one_fallback_entry_per_provider", table_name="delivery_fallbacks")
    op.drop_table("delivery_fallbacks")
    op.drop_table("message_attempts")
    for index in (
        "messages_final",
        "messages_by_creation",
        "messages_due",
        "one_message_per_idempotency_key",
    ):
        op.drop_index(index, table_name="messages")
    op.drop_table("messages")
