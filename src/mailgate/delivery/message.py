"""The test email itself: envelope addresses and an RFC 5322 message, UTF-8 safe."""

from __future__ import annotations

import secrets
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.errors import HeaderParseError
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

import idna

SUBJECT = "Test email"
BODY = (
    "This is a test email from mailgate.\n"
    "It was sent to check that your SMTP provider works; no action is needed.\n"
)

# RFC 5322 atext besides letters and digits; together with "." they make a dot-atom local part.
_ATEXT_SPECIALS = set("!#$%&'*+-/=?^_`{|}~")


class AddressError(ValueError):
    """An address that cannot be used in an SMTP envelope; `field` is "sender" or "receiver"."""

    def __init__(self, field: str, address: str, problem: str = "is not a valid email address") -> None:
        super().__init__(f"the {field} address {address!r} {problem}")
        self.field = field


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
        if any(not ch.isprintable() or ch.isspace() for ch in domain):
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


def parse_mailbox(address: str, field: str = "email") -> _Mailbox:
    """Check an addr-spec (local@domain) for the SMTP envelope and a header; raise AddressError."""
    text = address.strip()
    if not text or any(unicodedata.category(ch) == "Cc" for ch in text) or any(c in text for c in "<> "):
        raise AddressError(field, address)
    local, at, domain = text.rpartition("@")
    if not at or not local or not domain:
        raise AddressError(field, address)
    domain, domain_utf8 = _domain(domain, field, address)
    if local.isascii():
        try:
            # The email package's RFC 5322 parser decides what a valid (dot-atom or quoted) local part is.
            Address(addr_spec=f"{local}@{'example.com' if domain_utf8 else domain}")
        except (HeaderParseError, ValueError, IndexError):
            raise AddressError(field, address) from None
        return _Mailbox(local, domain, domain_utf8)
    _check_utf8_local(local, field, address)
    return _Mailbox(local, domain, True)


def _display_name(name: str) -> str:
    # Control characters (CR, LF, ...) could split the header; they carry nothing a name needs.
    cleaned = "".join(" " if unicodedata.category(ch)[0] == "C" else ch for ch in name)
    return " ".join(cleaned.split())


def compose_test_email(
    sender_address: str,
    sender_name: str,
    receiver_address: str,
    now: datetime | None = None,
) -> ComposedEmail:
    """Build the test email (From, To, Subject "Test email", Date, Message-ID, plain-text body).

    Raises AddressError naming the bad address; its `field` attribute is "sender" or "receiver".
    """
    sender = parse_mailbox(sender_address, "sender")
    receiver = parse_mailbox(receiver_address, "receiver")
    utf8 = sender.utf8 or receiver.utf8
    # policy.SMTP encodes non-ASCII display names as RFC 2047 words; SMTPUTF8 writes them as UTF-8.
    message = EmailMessage(policy=policy.SMTPUTF8 if utf8 else policy.SMTP)
    message["From"] = Address(
        display_name=_display_name(sender_name), username=sender.local, domain=sender.domain
    )
    message["To"] = Address(username=receiver.local, domain=receiver.domain)
    message["Subject"] = SUBJECT
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
        data=message.as_bytes(),
        smtputf8=utf8,
    )
