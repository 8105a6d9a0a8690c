"""A notification as an RFC 5322 message: the provider's sender, the caller's recipients, reply-to,
subject, text and/or HTML bodies and allowlisted extra headers.

Every caller text goes through `message.header_text` (or `parse_mailbox` for an address), here as
at enqueue: whatever a message holds, it can never add a header line or change the body.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.headerregistry import Address, BaseHeader, HeaderRegistry
from email.message import EmailMessage
from email.utils import format_datetime

from mailgate.delivery.sending import OutgoingEmail

from .message import MessageTextError, header_text, message_bytes, parse_mailbox

# The extra headers a caller may set (delivery.md decision 11): the mailing-list headers a mail
# client acts on (RFC 2369, RFC 8058 one-click unsubscribe, RFC 2919), and any X- header.
LIST_HEADERS = ("List-Unsubscribe", "List-Unsubscribe-Post", "List-Id", "List-Help")
MAX_HEADER_NAME = 76  # so that "Name: " and a value still start on one line
# RFC 5322 field name: printable US-ASCII except ":"; an X- header needs a name after the prefix.
_X_HEADER = re.compile(r"X-[!-9;-~]+", re.IGNORECASE)
_LIST = {name.lower(): name for name in LIST_HEADERS}
# A Message-ID as mailgate makes them: "<left@right>", printable ASCII without brackets or spaces.
_MESSAGE_ID = re.compile(r"<[!-;=?-~]+@[!-;=?-~]+>")


class _Headers(HeaderRegistry):
    """The email package's header registry, but building each header class once: the stock one
    makes a new class for every header it parses, a third of the cost of composing a message."""

    def __init__(self) -> None:
        super().__init__()
        self._classes: dict[str, type[BaseHeader]] = {}

    def __getitem__(self, name: str) -> type[BaseHeader]:
        key = name.lower()
        made = self._classes.get(key)
        if made is None:
            made = self._classes[key] = super().__getitem__(name)
        return made


_ASCII = policy.SMTP.clone(header_factory=_Headers())
_UTF8 = policy.SMTPUTF8.clone(header_factory=_Headers())
# Text that comes from the provider's settings rather than from the message: a problem with it is the
# provider's (its sender), not the message's.
PROVIDER_FIELDS = frozenset({"sender", "sender_name", "reply_to_address"})


def allowed_header(name: str) -> bool:
    """True for a header name a caller may set: one of LIST_HEADERS (any case) or X-<name>."""
    return len(name) <= MAX_HEADER_NAME and (name.lower() in _LIST or _X_HEADER.fullmatch(name) is not None)


@dataclass(frozen=True)
class CheckedText:
    """A message's caller text, checked: addr-specs as the envelope and headers carry them."""

    message_id: str
    recipients: tuple[Address, ...]
    reply_to: Address | None
    subject: str
    headers: tuple[tuple[str, str], ...]
    utf8: bool  # an address needs SMTPUTF8


@dataclass(frozen=True)
class Composed:
    """What an SMTP transaction sends: envelope sender and recipients, message bytes, SMTPUTF8 or not."""

    mail_from: str
    recipients: tuple[str, ...]
    data: bytes
    smtputf8: bool


def _mailbox(address: str, field: str) -> tuple[Address, bool]:
    mailbox = parse_mailbox(address, field)
    return Address(username=mailbox.local, domain=mailbox.domain), mailbox.utf8


def _headers(headers: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
    seen: set[str] = set()
    checked = []
    for name, value in headers:
        if not allowed_header(name):
            allowed = ", ".join(LIST_HEADERS)
            raise MessageTextError("headers", f"the header {name!r} is not allowed (only {allowed} and X-*)")
        if name.lower() in seen:
            raise MessageTextError("headers", f"the header {name!r} is given more than once")
        seen.add(name.lower())
        checked.append((_LIST.get(name.lower(), name), header_text(value, f"headers.{name}")))
    return tuple(checked)


def check_text(email: OutgoingEmail, default_reply_to: str = "") -> CheckedText:
    """The message's caller text checked for an email; MessageTextError naming the field if not.

    `default_reply_to` (the provider's reply-to address) applies when the message sets none.
    """
    if not email.to:
        raise MessageTextError("to", "the message has no recipient")
    recipients: list[Address] = []
    utf8 = False
    for address in email.to:
        mailbox, needs_utf8 = _mailbox(address, "to")
        utf8 |= needs_utf8
        if mailbox.addr_spec not in (known.addr_spec for known in recipients):
            recipients.append(mailbox)
    reply_to: Address | None = None
    if email.reply_to or default_reply_to:
        field = "reply_to" if email.reply_to else "reply_to_address"
        reply_to, needs_utf8 = _mailbox(email.reply_to or default_reply_to, field)
        utf8 |= needs_utf8
    return CheckedText(
        message_id=_message_id(email.message_id),
        recipients=tuple(recipients),
        reply_to=reply_to,
        subject=header_text(email.subject, "subject"),
        headers=_headers(email.headers),
        utf8=utf8,
    )


def _message_id(text: str) -> str:
    if _MESSAGE_ID.fullmatch(text) is None:
        raise MessageTextError("message_id", f"{text!r} is not a Message-ID of the form <left@right>")
    return text


def compose(
    email: OutgoingEmail,
    sender_address: str,
    sender_name: str,
    default_reply_to: str = "",
    now: datetime | None = None,
) -> Composed:
    """The notification as SMTP sends it: From the provider's sender, the message's own Message-ID,
    Auto-Submitted (RFC 3834), then its allowlisted headers. MessageTextError names a bad field."""
    sender = parse_mailbox(sender_address, "sender")
    text = check_text(email, default_reply_to)
    utf8 = text.utf8 or sender.utf8
    # policy.SMTP encodes non-ASCII display names as RFC 2047 words; SMTPUTF8 writes them as UTF-8.
    message = EmailMessage(policy=_UTF8 if utf8 else _ASCII)
    message["From"] = Address(
        display_name=header_text(sender_name, "sender_name"), username=sender.local, domain=sender.domain
    )
    message["To"] = text.recipients
    if text.reply_to is not None:
        message["Reply-To"] = text.reply_to
    message["Subject"] = text.subject
    message["Date"] = format_datetime(now or datetime.now(UTC))
    message["Message-ID"] = text.message_id
    # Tells vacation responders and auto-repliers not to answer a machine-sent notification.
    message["Auto-Submitted"] = "auto-generated"
    for name, value in text.headers:
        message[name] = value
    _set_bodies(message, email)
    try:
        data = message_bytes(message)
    except UnicodeError:  # a lone surrogate in a body: no charset can write it
        raise MessageTextError("body", "a body holds text that cannot be written as UTF-8") from None
    recipients = tuple(mailbox.addr_spec for mailbox in text.recipients)
    return Composed(mail_from=sender.addr_spec, recipients=recipients, data=data, smtputf8=utf8)


def _set_bodies(message: EmailMessage, email: OutgoingEmail) -> None:
    """text/plain, text/html, or both as multipart/alternative (the plain text first, RFC 2046 5.1.4)."""
    text, html = email.bodies.text, email.bodies.html
    if text is None and html is None:
        raise MessageTextError("body", "the message has neither a text nor an HTML body")
    if text is not None:
        message.set_content(text)
        if html is not None:
            message.add_alternative(html, subtype="html")
            for part in message.iter_parts():
                del part["MIME-Version"]  # the email package repeats it on a part it adds; it belongs on top
    elif html is not None:
        message.set_content(html, subtype="html")
