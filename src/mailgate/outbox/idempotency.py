"""Whether a request under an idempotency key is the one that key was first used for.

The store keeps a keyed digest of the first request (`SecretBox.digest`), never the request: a
plain hash of a short body ("your code is 123456") could be reversed by trying every code.
"""

from __future__ import annotations

import json
from datetime import timedelta

from mailgate.outbox.request import EmailRequest
from mailgate.secrets import SecretBox


def _canonical(request: EmailRequest) -> bytes:
    """Everything that makes two requests the same email, after defaults were applied."""
    return json.dumps(
        [
            list(request.to),
            request.subject,
            request.bodies.text,
            request.bodies.html,
            request.reply_to,
            [list(header) for header in request.headers],
            request.category,
            request.expires_after // timedelta(microseconds=1),
            request.max_attempts,
        ],
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode()


def _context(instance_id: str, key: str) -> str:
    return f"{instance_id}/idempotency/{key}"


def request_digest(box: SecretBox, instance_id: str, request: EmailRequest) -> str | None:
    """The digest stored beside a keyed message; None without a key."""
    if request.idempotency_key is None:
        return None
    return box.digest(_canonical(request), _context(instance_id, request.idempotency_key))


def same_request(box: SecretBox, instance_id: str, request: EmailRequest, digest: str | None) -> bool:
    """Whether `request` is the one whose digest the key's message holds."""
    if request.idempotency_key is None or digest is None:
        return False
    return box.digest_matches(digest, _canonical(request), _context(instance_id, request.idempotency_key))
