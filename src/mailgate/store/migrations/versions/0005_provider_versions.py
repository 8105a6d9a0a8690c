"""Provider versions: each provider's version grows with every change to it (its etag, decision 6).

Revision ID: 0005
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Existing providers start at version 1, as a provider added now does.
    with op.batch_alter_table("email_providers") as batch:
        batch.add_column(sa.Column("version", sa.BigInteger, nullable=False, server_default="1"))


def downgrade() -> None:
    with op.batch_alter_table("email_providers") as batch:
        batch.drop_column("version")
