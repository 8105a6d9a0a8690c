"""The checks a new email passes before anything is stored, beyond the proto's limits.

Addresses are parsed as the SMTP envelope needs them, every caller text that becomes a header
goes through `header_text` (no control character, also not inside an RFC 2047 encoded word), extra
headers come from the allowlist, and there is a body. A request refused here stores nothing, and
so uses no idempotency key.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import NoReturn

from mailgate.delivery.message import MessageTextError, header_text, parse_mailbox
from mailgate.errors import FieldViolation, InvalidArgument
from mailgate.outbox.request import EmailRequest

BODY_MISSING_ID = "MG-BODY-MISSING"
ADDRESS_INVALID_ID = "MG-ADDRESS-INVALID"
CONTROL_TEXT_ID = "MG-TEXT-CONTROL"
HEADER_NOT_ALLOWED_ID = "MG-HEADER-NOT-ALLOWED"

# Extra headers a caller may set, by their usual spelling; any `X-` name of letters, digits and
# hyphens too. Everything else (From, To, Bcc, Subject, Content-*, Received, ...) mailgate writes
# itself or never. The proto's pattern on EmailHeader.name says the same (a test compares them).
ALLOWED_HEADERS = ("List-Unsubscribe", "List-Unsubscribe-Post", "List-Id", "Feedback-ID")
_ALLOWED_BY_KEY = {name.lower(): name for name in ALLOWED_HEADERS}
_X_HEADER = re.compile(r"X-[A-Za-z0-9-]+", re.ASCII | re.IGNORECASE)


def allowed_header(name: str) -> str | None:
    """The header name as mailgate writes it, or None when callers may not set it."""
    known = _ALLOWED_BY_KEY.get(name.lower())
    if known is not None:
        return known
    return name if _X_HEADER.fullmatch(name) else None


def checked(request: EmailRequest) -> EmailRequest:
    """`request` with its addresses trimmed and its header texts in the form they are sent; raises
    InvalidArgument naming the field when it cannot be sent as asked."""
    if not (request.bodies.text or request.bodies.html):
        _refuse(BODY_MISSING_ID, "text_body", "set text_body, html_body or both")
    return replace(
        request,
        to=tuple(_address(address, f"to[{index}]") for index, address in enumerate(request.to)),
        reply_to=_address(request.reply_to, "reply_to") if request.reply_to.strip() else "",
        subject=_header_value(request.subject, "subject"),
        headers=_headers(request.headers),
    )


def _address(address: str, field: str) -> str:
    try:
        parse_mailbox(address, field)
    except MessageTextError as exc:
        _refuse(ADDRESS_INVALID_ID, field, str(exc))
    return address.strip()


def _header_value(text: str, field: str) -> str:
    try:
        return header_text(text, field)
    except MessageTextError as exc:
        _refuse(CONTROL_TEXT_ID, field, str(exc))


def _headers(headers: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
    seen: set[str] = set()
    result = []
    for index, (name, value) in enumerate(headers):
        spelled = allowed_header(name)
        if spelled is None:
            _refuse(HEADER_NOT_ALLOWED_ID, f"headers[{index}].name", f"{name!r} is not an allowed header")
        if spelled.lower() in seen:
            _refuse(HEADER_NOT_ALLOWED_ID, f"headers[{index}].name", f"{spelled} is set more than once")
        seen.add(spelled.lower())
        result.append((spelled, _header_value(value, f"headers[{index}].value")))
    return tuple(result)


def _refuse(error_id: str, field: str, description: str) -> NoReturn:
    raise InvalidArgument(error_id, f"Invalid argument: {description}", [FieldViolation(field, description)])
