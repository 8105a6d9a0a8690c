"""The schema as SQLAlchemy Core tables; migrations/ creates it, this module names it for queries."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Index,
    Integer,
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
    # The history's chain: its head, and the last event retention deleted (verify starts there).
    Column("history_sequence", BigInteger, nullable=False, default=0),
    Column("history_hash", String(64), nullable=False, default=""),
    Column("history_anchor_sequence", BigInteger, nullable=False, default=0),
    Column("history_anchor_hash", String(64), nullable=False, default=""),
    # The provider the instance's messages are being sent through (store/routes.py); None until the
    # next message after a start, an activation or a new list of fallbacks.
    Column("delivery_route", String(100), nullable=True),
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
    # Grows by one with every change to the provider, or to which provider is active (its etag).
    Column("version", BigInteger, nullable=False, default=1),
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

# --- the outbox: notification emails, their attempts, fallbacks and provider health ---

# One row per message. Bodies and subject are sealed (providers.sealing, bound to the message);
# the bodies are set to NULL once the message is final and the retention has passed.
messages = Table(
    "messages",
    metadata,
    Column("instance_id", String(200), primary_key=True),
    Column("id", String(32), primary_key=True),
    Column("state", String(10), nullable=False),  # outbox.model.MessageState values
    Column("recipients", JSON, nullable=False),  # the `to` addresses, as a list
    Column("subject_sealed", Text, nullable=False),
    Column("text_sealed", Text),
    Column("html_sealed", Text),
    Column("reply_to", String(200), nullable=False, default=""),
    Column("headers", JSON, nullable=False, default=list),  # [[name, value], ...], allowlisted
    Column("category", String(100), nullable=False, default=""),
    Column("message_id", String(255), nullable=False),  # RFC 5322 Message-ID, one for every attempt
    Column("idempotency_key", String(200)),
    Column("request_hash", String(64)),  # what the key was first used for: a different request is refused
    Column("sender_token_id", String(32), nullable=False),
    Column("created_us", BigInteger, nullable=False),
    Column("updated_us", BigInteger, nullable=False),
    Column("expires_us", BigInteger, nullable=False),
    Column("next_attempt_us", BigInteger),  # when a worker may claim it (queued, deferred)
    Column("attempts_made", Integer, nullable=False, default=0),
    Column("max_attempts", Integer, nullable=False),
    Column("provider_id", String(100)),  # the provider of the latest attempt
    Column("claimed_by", String(64)),  # the worker holding the lease
    Column("claimed_until_us", BigInteger),  # its lease ends here; another worker may take over after
    Column("sent_us", BigInteger),
    Column("final_us", BigInteger),  # when it became sent, failed, expired or canceled
)
# An idempotency key names one message per instance, enforced where no race can break it.
Index(
    "one_message_per_idempotency_key",
    messages.c.instance_id,
    messages.c.idempotency_key,
    unique=True,
    sqlite_where=messages.c.idempotency_key.isnot(None),
    postgresql_where=messages.c.idempotency_key.isnot(None),
)
Index("messages_due", messages.c.state, messages.c.next_attempt_us)  # what the workers claim
Index("messages_by_creation", messages.c.instance_id, messages.c.created_us, messages.c.id)  # keyset pages
Index("messages_final", messages.c.final_us)  # retention cleanup

attempts = Table(
    "message_attempts",
    metadata,
    Column("instance_id", String(200), primary_key=True),
    Column("message_id", String(32), primary_key=True),  # messages.id
    Column("number", Integer, primary_key=True),
    Column("at_us", BigInteger, nullable=False),
    Column("provider_id", String(100), nullable=False),
    Column("reply_class", String(16), nullable=False),  # outbox.model.ReplyClass values
    Column("stage", String(16), nullable=False),  # delivery.report.Stage values
    Column("reply_code", Integer, nullable=False, default=0),
    Column("enhanced_status_code", String(16), nullable=False, default=""),
    Column("reply_text", String(1000), nullable=False, default=""),  # redacted
    Column("detail", String(1000), nullable=False, default=""),
    Column("duration_ms", Integer, nullable=False, default=0),
    Column("steps", JSON, nullable=False, default=list),  # the timeline, redacted
)

# The instance's ordered fallback providers, tried when the active one is unhealthy.
fallbacks = Table(
    "delivery_fallbacks",
    metadata,
    Column("instance_id", String(200), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("provider_id", String(100), nullable=False),
)
Index("one_fallback_entry_per_provider", fallbacks.c.instance_id, fallbacks.c.provider_id, unique=True)

# Each provider's circuit breaker, shared by every replica.
provider_health = Table(
    "provider_health",
    metadata,
    Column("instance_id", String(200), primary_key=True),
    Column("provider_id", String(100), primary_key=True),
    Column("state", String(10), nullable=False),  # closed | open | half_open
    Column("consecutive_faults", Integer, nullable=False, default=0),
    Column("open_until_us", BigInteger),  # an open breaker lets a probe through after this
    Column("changed_us", BigInteger, nullable=False),
)

# The change history: one row per event, numbered 1, 2, 3, ... per instance and chained by hash.
history_events = Table(
    "history_events",
    metadata,
    Column("instance_id", String(200), primary_key=True),
    Column("sequence", BigInteger, primary_key=True),
    Column("type", String(100), nullable=False),
    Column("created_us", BigInteger, nullable=False),
    Column("provider_id", String(100), nullable=False),  # "" when the event is about no provider
    Column("actor_token_id", String(32), nullable=False),
    Column("actor", JSON, nullable=False),
    Column("payload", JSON, nullable=False),  # never a secret, not even sealed
    Column("changes", JSON, nullable=False),  # [[field, old, new], ...]
    Column("secrets", JSON, nullable=False),  # [[field, fingerprint], ...]
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)
Index("history_by_type", history_events.c.instance_id, history_events.c.type, history_events.c.sequence)
Index(
    "history_by_provider",
    history_events.c.instance_id,
    history_events.c.provider_id,
    history_events.c.sequence,
)
Index(
    "history_by_actor",
    history_events.c.instance_id,
    history_events.c.actor_token_id,
    history_events.c.sequence,
)
Index("history_by_time", history_events.c.instance_id, history_events.c.created_us)
