"""The instance's delivery route: the provider its messages are being sent through, so that a
failover (and the way back) is recorded once, by whichever replica moves it first.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Existing instances start without one: their next message sets it, without an event.
    with op.batch_alter_table("instances") as batch:
        batch.add_column(sa.Column("delivery_route", sa.String(100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("instances") as batch:
        batch.drop_column("delivery_route")
