"""XOAUTH2 grants: token-endpoint client auth and the JWT-bearer grant's claims and private key.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_COLUMNS = (
    ("oauth_grant", sa.String(24), "client_credentials"),
    ("token_endpoint_auth", sa.String(24), "CLIENT_SECRET_BASIC"),
    ("jwt_key_id", sa.String(200), ""),
    ("jwt_issuer", sa.String(500), ""),
    ("jwt_subject", sa.String(500), ""),
    ("jwt_audience", sa.String(2048), ""),
    ("jwt_signing_algorithm", sa.String(16), "RS256"),
)


def upgrade() -> None:
    with op.batch_alter_table("email_providers") as batch:
        for name, kind, default in _COLUMNS:
            batch.add_column(sa.Column(name, kind, nullable=False, server_default=default))
        batch.add_column(sa.Column("private_key_sealed", sa.Text))


def downgrade() -> None:
    with op.batch_alter_table("email_providers") as batch:
        batch.drop_column("private_key_sealed")
        for name, _, _ in reversed(_COLUMNS):
            batch.drop_column(name)
