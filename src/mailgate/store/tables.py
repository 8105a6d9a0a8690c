"""The schema as SQLAlchemy Core tables; migrations/ creates it, this module names it for queries."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Index,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
)

metadata = MetaData()
ONE_ACTIVE_INDEX = "one_active_provider_per_instance"

# One row per instance: its sequence grows with every change, and updating it serializes writers.
instances = Table(
    "instances",
    metadata,
    Column("id", String(200), primary_key=True),
    Column("sequence", BigInteger, nullable=False),
)

providers = Table(
    "email_providers",
    metadata,
    Column("instance_id", String(200), primary_key=True),
    Column("id", String(100), primary_key=True),
    Column("kind", String(8), nullable=False),  # "smtp" | "http"
    Column("state", SmallInteger, nullable=False),  # 1 active, 2 inactive (EmailProviderState)
    Column("description", String(200), nullable=False),
    Column("creation_sequence", BigInteger, nullable=False),
    Column("sequence", BigInteger, nullable=False),
    Column("created_us", BigInteger, nullable=False),  # microseconds since the epoch, UTC
    Column("changed_us", BigInteger, nullable=False),
    Column("sender_address", String(200), nullable=False, default=""),
    Column("sender_name", String(200), nullable=False, default=""),
    Column("reply_to_address", String(200), nullable=False, default=""),
    Column("tls", Boolean, nullable=False, default=False),
    Column("host", String(500), nullable=False, default=""),
    Column("smtp_user", Text, nullable=False, default=""),  # the API sets no limit
    Column("auth", String(16), nullable=False, default="none"),  # "none" | "plain" | "xoauth2"
    Column("password_sealed", Text),
    Column("token_endpoint", String(2048), nullable=False, default=""),
    Column("scopes", JSON, nullable=False, default=list),
    Column("client_id", String(500), nullable=False, default=""),
    Column("client_secret_sealed", Text),
    Column("oauth_grant", String(24), nullable=False, default="client_credentials"),
    Column("token_endpoint_auth", String(24), nullable=False, default="CLIENT_SECRET_BASIC"),
    Column("jwt_key_id", String(200), nullable=False, default=""),
    Column("jwt_issuer", String(500), nullable=False, default=""),
    Column("jwt_subject", String(500), nullable=False, default=""),
    Column("jwt_audience", String(2048), nullable=False, default=""),
    Column("jwt_signing_algorithm", String(16), nullable=False, default="RS256"),
    Column("private_key_sealed", Text),
    Column("endpoint", String(2048), nullable=False, default=""),
    Column("signing_key_sealed", Text),
)

# The invariant "at most one active provider per instance", where no race can break it.
Index(
    ONE_ACTIVE_INDEX,
    providers.c.instance_id,
    unique=True,
    sqlite_where=providers.c.state == 1,
    postgresql_where=providers.c.state == 1,
)

Index("email_providers_by_creation", providers.c.instance_id, providers.c.creation_sequence)

tokens = Table(
    "api_tokens",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("instance_id", String(200), nullable=False),
    Column("permission", String(32), nullable=False),
    Column("description", String(200), nullable=False, default=""),
    Column("created_us", BigInteger, nullable=False),
    Column("revoked_us", BigInteger),
)
