"""A message's subject and bodies are sealed to their instance, message and field."""

from __future__ import annotations

import pytest

from mailgate.outbox.sealing import FIELDS, HTML, SUBJECT, TEXT, MessageSecrets, message_context
from mailgate.providers.auth import ClientCredentials, JwtBearer, PlainAuth
from mailgate.providers.model import HttpSettings
from mailgate.providers.sealing import ProviderSecrets, Sealed
from mailgate.secrets import SecretBox, SecretError

BOX = SecretBox(b"k" * 32)


def test_a_sealed_body_opens_only_for_its_own_message_and_field() -> None:
    sealed = MessageSecrets(BOX, "inst", "m1").seal(TEXT, "Your code is 123456")
    assert "123456" not in sealed
    assert MessageSecrets(BOX, "inst", "m1").open(TEXT, sealed) == "Your code is 123456"
    for instance, key, field in (("inst", "m2", TEXT), ("other", "m1", TEXT), ("inst", "m1", HTML)):
        with pytest.raises(SecretError):
            MessageSecrets(BOX, instance, key).open(field, sealed)


def test_no_message_field_can_pass_for_a_provider_secret() -> None:
    provider_fields = {PlainAuth.SECRET, ClientCredentials.SECRET, JwtBearer.SECRET, HttpSettings.SECRET}
    assert not set(FIELDS) & provider_fields
    # A provider whose id happens to equal a message's cannot open that message's subject.
    sealed = MessageSecrets(BOX, "inst", "42").seal(SUBJECT, "Welcome")
    for field in provider_fields:
        with pytest.raises(SecretError):
            ProviderSecrets(BOX, "inst", "42").open(field, Sealed(sealed))


def test_the_context_names_instance_message_and_field() -> None:
    assert message_context("inst", "m1", SUBJECT) == "inst/messages/m1/subject"
    bodies = MessageSecrets(BOX, "i", "m").open_bodies(
        None, MessageSecrets(BOX, "i", "m").seal(HTML, "<p>x</p>")
    )
    assert (bodies.text, bodies.html) == (None, "<p>x</p>")
    assert "<p>" not in repr(bodies)
