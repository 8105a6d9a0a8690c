"""Page tokens of ListMessages: where the last page ended, valid only with the filters it was made for.

A token is the last message's (creation time, id) in the list's order and a short digest of the
filters; it is opaque to clients but not secret (it only narrows a query the caller may run anyway).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import asdict

from mailgate.errors import FieldViolation, InvalidArgument
from mailgate.outbox.request import Cursor, MessageFilter

PAGE_TOKEN_ID = "MG-PAGE-TOKEN"
_TEXT = "page_token is not a next_page_token of this query; start again without one"


def _filter_digest(query: MessageFilter) -> str:
    fields = asdict(query)
    for name in ("created_from", "created_before"):
        moment = getattr(query, name)
        fields[name] = None if moment is None else moment.isoformat()
    fields["states"] = [state.value for state in query.states]
    text = json.dumps(fields, sort_keys=True, ensure_ascii=False).encode()
    return hashlib.sha256(text).hexdigest()[:16]


def encode_token(cursor: Cursor, query: MessageFilter) -> str:
    data = json.dumps([cursor.created_us, cursor.message_id, _filter_digest(query)], separators=(",", ":"))
    return base64.urlsafe_b64encode(data.encode()).rstrip(b"=").decode()


def decode_token(token: str, query: MessageFilter) -> Cursor | None:
    """The cursor of `token` (None for no token); INVALID_ARGUMENT MG-PAGE-TOKEN for a token that is
    unreadable or was made for other filters."""
    if not token:
        return None
    try:
        created_us, message_id, digest = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (ValueError, TypeError, binascii.Error):
        raise _refused() from None
    valid = isinstance(created_us, int) and isinstance(message_id, str) and isinstance(digest, str)
    if not valid or digest != _filter_digest(query):
        raise _refused()
    return Cursor(created_us, message_id)


def _refused() -> InvalidArgument:
    return InvalidArgument(PAGE_TOKEN_ID, f"Invalid argument: {_TEXT}", [FieldViolation("page_token", _TEXT)])
