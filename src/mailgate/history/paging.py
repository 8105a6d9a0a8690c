"""ListHistory's page tokens: the last sequence shown and a digest of the filters it was made for."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import asdict

from mailgate.errors import FieldViolation, InvalidArgument
from mailgate.history.query import HistoryFilter

PAGE_TOKEN_ID = "MG-PAGE-TOKEN"
_TEXT = "page_token is not a next_page_token of this query; start again without one"


def _digest(where: HistoryFilter) -> str:
    text = json.dumps(asdict(where), sort_keys=True, ensure_ascii=False).encode()
    return hashlib.sha256(text).hexdigest()[:16]


def encode_token(last_sequence: int, where: HistoryFilter) -> str:
    data = json.dumps([last_sequence, _digest(where)], separators=(",", ":"))
    return base64.urlsafe_b64encode(data.encode()).rstrip(b"=").decode()


def decode_token(token: str, where: HistoryFilter) -> int | None:
    """The sequence the next page starts before (None without a token); INVALID_ARGUMENT for a
    token that is unreadable or was made for other filters."""
    if not token:
        return None
    try:
        sequence, digest = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (ValueError, TypeError, binascii.Error):
        raise _refused() from None
    if not isinstance(sequence, int) or isinstance(sequence, bool) or digest != _digest(where):
        raise _refused()
    return sequence


def _refused() -> InvalidArgument:
    return InvalidArgument(PAGE_TOKEN_ID, f"Invalid argument: {_TEXT}", [FieldViolation("page_token", _TEXT)])
