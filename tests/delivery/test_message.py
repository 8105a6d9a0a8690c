"""The test email: headers, body, UTF-8 names and addresses, and address checks."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage

import pytest

from mailgate.delivery.message import (
    BODY,
    AddressError,
    MessageTextError,
    compose_test_email,
    header_text,
    message_bytes,
    parse_mailbox,
)
from tests.fixtures.headers import HEADERS, INJECTIONS

NOW = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)


def parse(data: bytes) -> email.message.EmailMessage:
    message = email.message_from_string(data.decode("utf-8"), policy=email.policy.default)
    assert isinstance(message, email.message.EmailMessage)
    return message


def test_ascii_message() -> None:
    composed = compose_test_email("noreply@example.com", "ACME Support", "bob@example.org", now=NOW)
    assert (composed.mail_from, composed.rcpt_to, composed.smtputf8) == (
        "noreply@example.com",
        "bob@example.org",
        False,
    )
    assert composed.data.isascii()
    assert b"\r\n" in composed.data and b"\n" not in composed.data.replace(b"\r\n", b"")
    message = parse(composed.data)
    assert str(message["From"]) == "ACME Support <noreply@example.com>"
    assert str(message["To"]) == "bob@example.org"
    assert message["Subject"] == "Test email"
    assert b"\r\nSubject: Test email\r\n" in composed.data
    assert message["Date"] == "Wed, 04 Mar 2026 05:06:07 +0000"
    assert message["Message-ID"].startswith("<") and message["Message-ID"].endswith("@example.com>")
    assert message["MIME-Version"] == "1.0"
    assert message.get_content_type() == "text/plain" and message.get_content_charset() == "utf-8"
    assert "test email from mailgate" in message.get_content()
    assert message["Reply-To"] is None and not message.defects


def test_message_ids_differ() -> None:
    first = parse(compose_test_email("a@example.com", "", "b@example.com").data)["Message-ID"]
    second = parse(compose_test_email("a@example.com", "", "b@example.com").data)["Message-ID"]
    assert first != second


def test_display_name_quoting_and_encoding() -> None:
    message = parse(compose_test_email("a@example.com", 'Zoë "Z" Müller, Ops', "b@example.com").data)
    assert message["From"].addresses[0].display_name == 'Zoë "Z" Müller, Ops'
    ascii_name = parse(compose_test_email("a@example.com", "Smith, John", "b@example.com").data)
    assert str(ascii_name["From"]) == '"Smith, John" <a@example.com>'
    empty = parse(compose_test_email("a@example.com", "", "b@example.com").data)
    assert str(empty["From"]) == "a@example.com"


@pytest.mark.parametrize("name", INJECTIONS.values(), ids=INJECTIONS.keys())
def test_sender_names_that_would_inject_are_refused(name: str) -> None:
    with pytest.raises(MessageTextError) as info:
        compose_test_email("a@example.com", name, "b@example.com")
    assert info.value.field == "sender_name"
    assert "control characters" in str(info.value)
    with pytest.raises(MessageTextError):
        header_text(name, "subject")


@pytest.mark.parametrize(
    "address",
    [
        "=?utf-8?q?x=0D=0A=42cc=3A_e?=.jörg@example.com",  # non-ASCII local part: no parser refuses it
        "=?utf-8?q?x?=@example.com",
        "a@=?utf-8?q?x=0D=0A?=.example.com",
    ],
)
def test_encoded_words_in_addresses_are_refused(address: str) -> None:
    with pytest.raises(AddressError) as info:
        compose_test_email(address, "", "b@example.com")
    assert info.value.field == "sender"
    with pytest.raises(AddressError):
        parse_mailbox(address, "fromAddress")


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("=?utf-8?q?Caf=C3=A9?= Ops", "Café Ops"),  # a legitimate encoded word is decoded, re-encoded
        ('Bcc: "x" <evil@evil.test>, Ops', 'Bcc: "x" <evil@evil.test>, Ops'),  # text, not a header
        ("  Ops   Team ", "Ops Team"),
        ("=?utf-8?b?", "=?utf-8?b?"),  # not an encoded word
        ("Operations " * 12, ("Operations " * 12).strip()),  # long enough to fold
    ],
)
def test_tricky_names_stay_in_the_from_header(name: str, shown: str) -> None:
    composed = compose_test_email("a@example.com", name, "b@example.com")
    message = parse(composed.data)
    assert list(message.keys()) == HEADERS
    assert message["From"].addresses[0].display_name == shown
    assert message.get_content().replace("\r\n", "\n") == BODY


def test_message_bytes_refuses_a_header_the_library_splits() -> None:
    # The last guard, tried on a message built without header_text: the library writes it as two lines.
    message = EmailMessage(policy=email.policy.SMTP)
    message["From"] = Address(display_name=INJECTIONS["b-word"], username="a", domain="example.com")
    message.set_content("body")
    with pytest.raises(MessageTextError):
        message_bytes(message)
    message.replace_header("From", Address(display_name="Ops", username="a", domain="example.com"))
    assert message_bytes(message).startswith(b"From: Ops <a@example.com>\r\n")


def test_idn_domains_become_a_labels() -> None:
    composed = compose_test_email("info@bücher.example", "Bücher", "kunde@straße.example")
    assert composed.mail_from == "info@xn--bcher-kva.example"
    assert composed.rcpt_to == "kunde@xn--strae-oqa.example"  # IDNA 2008: ß is kept, not mapped to ss
    assert not composed.smtputf8 and composed.data.isascii()


def test_utf8_local_part_needs_smtputf8() -> None:
    composed = compose_test_email("noreply@example.com", "Jörg", "jörg@example.com")
    assert composed.smtputf8 and composed.rcpt_to == "jörg@example.com"
    message = parse(composed.data)
    assert message["To"].addresses[0].addr_spec == "jörg@example.com"
    assert message["From"].addresses[0].display_name == "Jörg"


@pytest.mark.parametrize(
    "address",
    [
        "",
        "plain",
        "a@",
        "@b.example",
        "a b@example.com",
        "<a@example.com>",
        "a@b@c",
        "a\r\n@example.com",
        "a..b@example.com",
        ".a@example.com",
        "jö..rg@example.com",
        "jörg @example.com",
        "a@[",
        "jö@[",
    ],
)
def test_invalid_addresses(address: str) -> None:
    with pytest.raises(AddressError) as info:
        compose_test_email("noreply@example.com", "", address)
    assert info.value.field == "receiver"
    with pytest.raises(AddressError) as info:
        compose_test_email(address, "", "bob@example.com")
    assert info.value.field == "sender"


def test_quoted_local_part_is_valid() -> None:
    assert parse_mailbox('"john.doe"@example.com').addr_spec == '"john.doe"@example.com'
