"""Tokens to principals (instance and permissions), and the permission check."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from mailgate.errors import PermissionDenied, Unauthenticated
from mailgate.store.cache import TtlCache
from mailgate.store.tokens import TokenRepository

READ = "iam.read"
WRITE = "iam.write"
SEND = "email.send"  # the platform's service token: send, and read what it sent
PERMISSIONS = (READ, WRITE, SEND)  # what a token can be created with
# Granted, never created: reading messages' status. With READ every message of the instance, with
# only SEND the token's own (the delivery API narrows the query).
STATUS = "email.status"
# Granted, never created: ZITADEL's permission for its event API (ListEvents, ...), which reads
# mailgate's change history. An admin token (iam.read or iam.write) has it; a send token does not.
EVENTS = "events.read"
# The usual cause besides a typo: the token was created in another database than the server's.
# The hint names no path or URL; the server logs its database at startup.
INVALID_TOKEN_TEXT = (
    "token unknown or revoked; a token works only with the database it was created in, "
    "and the server logs its database at startup"
)
# A permission grants itself and what it includes. Admin tokens do not send.
_GRANTS = {
    READ: frozenset({READ, STATUS, EVENTS}),
    WRITE: frozenset({READ, WRITE, STATUS, EVENTS}),
    SEND: frozenset({SEND, STATUS}),
}
# Schemes whose token may follow without a space (see `_token`).
_SPACE_OPTIONAL = frozenset({"ssws"})
_WHITESPACE = re.compile(r"\s")


@dataclass(frozen=True)
class Principal:
    """Who is calling: the token's instance and what it may do."""

    instance_id: str
    permissions: frozenset[str]
    token_id: str
    description: str = ""  # the token's, as the history records who changed what

    def may(self, permission: str) -> bool:
        return permission in self.permissions


def unauthenticated(error_id: str, text: str) -> Unauthenticated:
    return Unauthenticated(error_id, text)


def _accepted(schemes: tuple[str, ...]) -> str:
    return " or ".join(f"'{name} <token>'" for name in schemes)


def bearer_token(authorization: str | None, schemes: tuple[str, ...] = ("Bearer",)) -> str:
    """The token of an `Authorization: <scheme> <token>` header, or UNAUTHENTICATED."""
    if not authorization:
        raise unauthenticated("MG-AUTH-MISSING", f"authorization header missing: send {_accepted(schemes)}")
    token = _token(authorization.strip(), schemes)
    if token is None:
        raise unauthenticated("MG-AUTH-SCHEME", f"authorization header must be {_accepted(schemes)}")
    return token


def _token(value: str, schemes: tuple[str, ...]) -> str | None:
    """The token after one of `schemes` (case-insensitive) and one or more spaces; None if there is none.

    Okta's Python SDK (okta 3.4.6) writes `SSWS<token>` with no space. SSWS is Okta's own scheme,
    so there the space is optional; Bearer keeps RFC 6750's `Bearer 1*SP b64token`.
    """
    lowered = value.lower()
    for name in schemes:
        scheme = name.lower()
        rest = value[len(scheme) :]
        if lowered.startswith(scheme) and (rest.startswith(" ") or scheme in _SPACE_OPTIONAL):
            token = rest.lstrip(" ")
            return token if token and not _WHITESPACE.search(token) else None
    return None


class Authenticator:
    """Resolves tokens against the token store.

    Known tokens are cached briefly (a revocation reaches every replica within the cache's
    lifetime); unknown ones are not, so a token the CLI just created works at once.
    """

    def __init__(self, tokens: TokenRepository, cache: TtlCache[Principal] | None = None) -> None:
        self._tokens = tokens
        self._cache: TtlCache[Principal] = cache or TtlCache()

    def forget(self) -> None:
        """Drop every cached token (one was revoked somewhere)."""
        self._cache.clear()

    async def principal(self, token: str) -> Principal:
        principal = await self._cache.get_or_load(token, lambda: self._lookup(token))
        if principal is None:
            raise unauthenticated("MG-AUTH-INVALID", INVALID_TOKEN_TEXT)
        return principal

    async def _lookup(self, token: str) -> Principal | None:
        record = await self._tokens.find_active(token)
        if record is None:
            return None
        permissions = _GRANTS.get(record.permission, frozenset())
        return Principal(record.instance_id, permissions, record.id, record.description)

    async def authenticate(
        self, metadata: Mapping[str, str], schemes: tuple[str, ...] = ("Bearer",)
    ) -> Principal:
        """The principal of the `authorization` metadata, whose scheme must be one of `schemes`."""
        return await self.principal(bearer_token(metadata.get("authorization"), schemes))


def denied(principal: Principal, permission: str) -> PermissionDenied | None:
    """PERMISSION_DENIED unless the principal holds `permission` (None when it does)."""
    if principal.may(permission):
        return None
    return PermissionDenied("AUTH-5mWD2", f"No matching permissions found: this call needs {permission}")
