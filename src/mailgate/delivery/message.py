"""The test email itself: envelope addresses and an RFC 5322 message, UTF-8 safe.

Also the one place caller text becomes header text (`header_text`, `parse_mailbox`,
`message_bytes`): whatever a caller sends, it can never start a header line or reach the body.
"""

from __future__ import annotations

import secrets
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.errors import HeaderParseError
from email.headerregistry import Address, HeaderRegistry
from email.message import EmailMessage
from email.utils import format_datetime

import idna

from mailgate.errors import MailgateError

SUBJECT = "Test email"
BODY = (
    "This is a test email from mailgate.\n"
    "It was sent to check that your SMTP provider works; no action is needed.\n"
)

# RFC 5322 atext besides letters and digits; together with "." they make a dot-atom local part.
_ATEXT_SPECIALS = set("!#$%&'*+-/=?^_`{|}~")


# What may not appear in header text: C0 and C1 controls (CR, LF, TAB, NUL, NEL, ...), lone
# surrogates (not UTF-8), and the Unicode line and paragraph separators.
_REFUSED_CATEGORIES = frozenset({"Cc", "Cs", "Zl", "Zp"})
# Parses header text as the email package does when it writes a header; used to decode encoded words.
_HEADERS = HeaderRegistry()


class MessageTextError(MailgateError, ValueError):
    """Caller text the email cannot carry; `field` names it ("sender", "receiver", "sender_name", ...)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class AddressError(MessageTextError):
    """An address that cannot be used in an SMTP envelope; `field` is "sender" or "receiver"."""

    def __init__(self, field: str, address: str, problem: str = "is not a valid email address") -> None:
        super().__init__(field, f"the {field} address {address!r} {problem}")


@dataclass(frozen=True)
class ComposedEmail:
    """What the SMTP conversation sends: envelope addresses, message bytes, whether SMTPUTF8 is needed."""

    mail_from: str
    rcpt_to: str
    data: bytes
    smtputf8: bool


@dataclass(frozen=True)
class _Mailbox:
    local: str
    domain: str  # an A-label (xn--...) domain whenever IDNA can spell it
    utf8: bool  # needs SMTPUTF8: non-ASCII local part, or a domain IDNA refuses

    @property
    def addr_spec(self) -> str:
        return f"{self.local}@{self.domain}"


def _domain(domain: str, field: str, original: str) -> tuple[str, bool]:
    if domain.isascii():
        return domain, False
    try:
        # IDNA 2008 with UTS 46 mapping (the idna package): straße.de stays distinct from strasse.de.
        return idna.encode(domain, uts46=True).decode("ascii"), False
    except idna.IDNAError:
        # Sent as UTF-8 (SMTPUTF8): labels of letters, digits and hyphens, nothing the header parser reads.
        if any(
            not ch.isprintable() or ch.isspace() or (ch.isascii() and not (ch.isalnum() or ch in "-."))
            for ch in domain
        ):
            raise AddressError(field, original, "has an invalid domain") from None
        return domain, True


def _check_utf8_local(local: str, field: str, original: str) -> None:
    """A non-ASCII local part (RFC 6532): dot-atom of atext plus any printable non-ASCII character."""
    if local.startswith(".") or local.endswith(".") or ".." in local:
        raise AddressError(field, original)
    for ch in local:
        if ch == "." or ch.isalnum() or ch in _ATEXT_SPECIALS:
            continue
        if ord(ch) > 127 and unicodedata.category(ch)[0] not in "CZ":
            continue
        raise AddressError(field, original)


def control_character(text: str) -> str | None:
    """The first character of `text` that could break a header line (a control, a lone surrogate,
    a line or paragraph separator), or None."""
    return next((ch for ch in text if unicodedata.category(ch) in _REFUSED_CATEGORIES), None)


def _decoded(text: str, field: str) -> str:
    """`text` with its RFC 2047 encoded words decoded to any depth, as the email package reads it.

    Each level is checked: an encoded word hiding CR/LF (or another refused character) raises
    MessageTextError, since the email package would write it out decoded.
    """
    while True:
        found = control_character(text)
        if found is not None:
            raise MessageTextError(
                field,
                f"{field} must not contain control characters or line breaks (found U+{ord(found):04X}), "
                "also not inside an RFC 2047 encoded word",
            )
        decoded = str(_HEADERS("x-text", text))
        if decoded == text:
            return text
        text = decoded  # every decoded word is shorter than its encoding, so this ends


def header_text(text: str, field: str) -> str:
    """Caller text as a header value that cannot start a new header line or reach the body.

    Returns the decoded form (encoded words decoded, runs of white space as one space), which the
    email package encodes again itself; raises MessageTextError naming `field` for a control character
    in the text or in anything it decodes to.
    """
    return " ".join(_decoded(text, field).split())


def parse_mailbox(address: str, field: str = "email") -> _Mailbox:
    """Check an addr-spec (local@domain) for the SMTP envelope and a header; raise AddressError."""
    text = address.strip()
    if not text or control_character(text) is not None or any(c in text for c in "<> "):
        raise AddressError(field, address)
    try:
        decoded = _decoded(text, field)
    except MessageTextError:
        decoded = ""
    if decoded != text:
        # RFC 2047 5: no encoded words in an addr-spec; the email package would decode them anyway.
        raise AddressError(field, address, "contains an RFC 2047 encoded word")
    local, at, domain = text.rpartition("@")
    if not at or not local or not domain:
        raise AddressError(field, address)
    domain, domain_utf8 = _domain(domain, field, address)
    try:
        # The email package's RFC 5322 parser decides what a valid (dot-atom or quoted) local part
        # and domain are; the non-ASCII parts it cannot judge are checked on their own.
        Address(addr_spec=f"{local if local.isascii() else 'x'}@{'example.com' if domain_utf8 else domain}")
    except (HeaderParseError, ValueError, IndexError, AttributeError):
        # AttributeError: CPython 3.11's parser trips over an unclosed domain literal ("a@[").
        raise AddressError(field, address) from None
    if not local.isascii():
        _check_utf8_local(local, field, address)
    return _Mailbox(local, domain, domain_utf8 or not local.isascii())


def message_bytes(message: EmailMessage) -> bytes:
    """The message as bytes; MessageTextError if the email package wrote a header as more than one
    header line (the last guard: caller text must never add a header or reach the body)."""
    data = message.as_bytes()
    head = data.split(b"\r\n\r\n", 1)[0]
    written = [
        line.split(b":", 1)[0].decode("ascii", "replace").lower()
        for line in head.split(b"\r\n")
        if line[:1] not in (b" ", b"\t")  # a folded continuation of the header above
    ]
    if written != [name.lower() for name in message]:
        raise MessageTextError("header", "a header of the email would not stay one header line")
    return data


def compose_test_email(
    sender_address: str,
    sender_name: str,
    receiver_address: str,
    now: datetime | None = None,
) -> ComposedEmail:
    """Build the test email (From, To, Subject "Test email", Date, Message-ID, plain-text body).

    Raises MessageTextError (AddressError for an address) whose `field` is "sender", "receiver"
    or "sender_name".
    """
    sender = parse_mailbox(sender_address, "sender")
    receiver = parse_mailbox(receiver_address, "receiver")
    utf8 = sender.utf8 or receiver.utf8
    # policy.SMTP encodes non-ASCII display names as RFC 2047 words; SMTPUTF8 writes them as UTF-8.
    message = EmailMessage(policy=policy.SMTPUTF8 if utf8 else policy.SMTP)
    message["From"] = Address(
        display_name=header_text(sender_name, "sender_name"), username=sender.local, domain=sender.domain
    )
    message["To"] = Address(username=receiver.local, domain=receiver.domain)
    message["Subject"] = header_text(SUBJECT, "subject")
    message["Date"] = format_datetime(now or datetime.now(UTC))
    # Random and short, so the header stays on one line; make_msgid would also ask DNS for our
    # FQDN (blocking the loop) unless given a domain.
    message["Message-ID"] = f"<{secrets.token_urlsafe(18)}.mailgate@{sender.domain}>"
    # RFC 3834: tells vacation responders not to answer a machine-sent test.
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(BODY)
    return ComposedEmail(
        mail_from=sender.addr_spec,
        rcpt_to=receiver.addr_spec,
        data=message_bytes(message),
        smtputf8=utf8,
    )
