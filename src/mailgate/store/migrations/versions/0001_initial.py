"""Instances, email providers (with the one-active index) and API tokens.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "instances",
        sa.Column("id", sa.String(200), primary_key=True),
        sa.Column("sequence", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "email_providers",
        sa.Column("instance_id", sa.String(200), primary_key=True),
        sa.Column("id", sa.String(100), primary_key=True),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("state", sa.SmallInteger, nullable=False),
        sa.Column("description", sa.String(200), nullable=False),
        sa.Column("creation_sequence", sa.BigInteger, nullable=False),
        sa.Column("sequence", sa.BigInteger, nullable=False),
        sa.Column("created_us", sa.BigInteger, nullable=False),
        sa.Column("changed_us", sa.BigInteger, nullable=False),
        sa.Column("sender_address", sa.String(200), nullable=False),
        sa.Column("sender_name", sa.String(200), nullable=False),
        sa.Column("reply_to_address", sa.String(200), nullable=False),
        sa.Column("tls", sa.Boolean, nullable=False),
        sa.Column("host", sa.String(500), nullable=False),
        sa.Column("smtp_user", sa.Text, nullable=False),
        sa.Column("auth", sa.String(16), nullable=False),
        sa.Column("password_sealed", sa.Text),
        sa.Column("token_endpoint", sa.String(2048), nullable=False),
        sa.Column("scopes", sa.JSON, nullable=False),
        sa.Column("client_id", sa.String(500), nullable=False),
        sa.Column("client_secret_sealed", sa.Text),
        sa.Column("endpoint", sa.String(2048), nullable=False),
        sa.Column("signing_key_sealed", sa.Text),
    )
    op.create_index(
        "one_active_provider_per_instance",
        "email_providers",
        ["instance_id"],
        unique=True,
        sqlite_where=sa.text("state = 1"),
        postgresql_where=sa.text("state = 1"),
    )
    op.create_index("email_providers_by_creation", "email_providers", ["instance_id", "creation_sequence"])
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("instance_id", sa.String(200), nullable=False),
        sa.Column("permission", sa.String(32), nullable=False),
        sa.Column("description", sa.String(200), nullable=False),
        sa.Column("created_us", sa.BigInteger, nullable=False),
        sa.Column("revoked_us", sa.BigInteger),
    )


def downgrade() -> None:
    op.drop_table("api_tokens")
    op.drop_index("email_providers_by_creation", "email_providers")
    op.drop_index("one_active_provider_per_instance", "email_providers")
    op.drop_table("email_providers")
    op.drop_table("instances")
