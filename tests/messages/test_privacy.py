"""Bodies and subjects are sealed at rest (SQLite file and WAL, PostgreSQL rows), bound to their message
and field; no response, error or log line ever holds a body."""

from __future__ import annotations

import base64
import logging
import secrets
from typing import Any

import pytest
from sqlalchemy import select, text

from mailgate.gen.mailgate.v1 import delivery_pb2 as pb
from mailgate.outbox.sealing import message_context
from mailgate.secrets import SecretError
from mailgate.store.tables import messages
from tests.fixtures.servers import RunningServer
from tests.messages.helpers import Mailer, send_request

pytestmark = pytest.mark.asyncio(loop_scope="session")


def _forms(marker: str) -> list[bytes]:
    raw = marker.encode()
    return [raw, base64.b64encode(raw), base64.urlsafe_b64encode(raw), raw.hex().encode()]


def _holds(blob: bytes, marker: str) -> bool:
    return any(form in blob for form in _forms(marker))


async def _database_bytes(server: RunningServer, backend: str) -> bytes:
    if backend == "sqlite":
        files = [p for p in server.services.settings.data_dir.iterdir() if p.is_file()]
        assert {"mailgate.db", "mailgate.db-wal"} <= {p.name for p in files}
        return b"".join(p.read_bytes() for p in files)
    async with server.services.db.engine.connect() as conn:
        dump = [row[0] for row in await conn.execute(text("SELECT t::text FROM messages t"))]
        dump += [row[0] for row in await conn.execute(text("SELECT t::text FROM message_attempts t"))]
    return "\n".join(dump).encode()


def _log_text(records: list[logging.LogRecord]) -> str:
    return "\n".join(f"{record.getMessage()} {vars(record)!r}" for record in records)


async def test_bodies_and_subjects_are_sealed_and_never_shown(
    provider: str, sender: Mailer, server: RunningServer, backend: str, caplog: pytest.LogCaptureFixture
) -> None:
    tag = secrets.token_hex(6)
    body, html, subject = f"Body-{tag}-text", f"<p>Body-{tag}-html</p>", f"Subject-{tag}"
    recipient = f"rcpt-{tag}@example.com"
    request: dict[str, Any] = {
        "to": [recipient],
        "subject": subject,
        "text_body": body,
        "html_body": html,
        "idempotency_key": f"key-{tag}",
    }
    answers: list[bytes] = []
    errors: list[str] = []
    with caplog.at_level(logging.DEBUG):
        sent = await sender("SendEmail", send_request(**request))
        answers.append(sent.SerializeToString())
        answers.append(
            (await sender("GetMessage", pb.GetMessageRequest(id=sent.message.id))).SerializeToString()
        )
        answers.append((await sender("ListMessages", pb.ListMessagesRequest())).SerializeToString())
        for refused in (
            {**request, "text_body": body + " changed"},  # the key names another request
            {**request, "to": ["not an address"], "idempotency_key": ""},
            {**request, "subject": subject + "\r\nBcc: e@evil.test", "idempotency_key": ""},
            {**request, "text_body": body * 20_000, "idempotency_key": ""},  # over the limit
        ):
            failure = await sender.fail("SendEmail", send_request(**refused))
            errors.append(failure.message + repr(failure.status))

    assert sent.message.subject == subject  # the subject is shown to those who may read the message
    assert not any(_holds(answer, tag + "-text") or _holds(answer, tag + "-html") for answer in answers)
    assert not any(f"Body-{tag}" in error for error in errors)
    logged = _log_text(caplog.records)
    assert "SendEmail" in logged  # the calls were logged
    assert f"Body-{tag}" not in logged and subject not in logged

    stored = await _database_bytes(server, backend)
    assert _holds(stored, recipient)  # the search looks where messages are
    for marker in (f"Body-{tag}", subject):
        assert not _holds(stored, marker), marker


async def test_sealed_texts_are_bound_to_their_message_and_field(
    provider: str, sender: Mailer, server: RunningServer
) -> None:
    first, second = await sender.send(text_body="one", html_body="<b>one</b>"), await sender.send()
    async with server.services.db.engine.connect() as conn:
        row = (
            await conn.execute(
                select(messages.c.subject_sealed, messages.c.text_sealed, messages.c.html_sealed).where(
                    messages.c.instance_id == server.instance, messages.c.id == first.id
                )
            )
        ).one()
    box = server.services.box
    instance = server.instance
    assert box.open(row.text_sealed, message_context(instance, first.id, "text")) == "one"
    assert box.open(row.html_sealed, message_context(instance, first.id, "html")) == "<b>one</b>"
    assert box.open(row.subject_sealed, message_context(instance, first.id, "subject")) == first.subject
    for context in (
        message_context(instance, second.id, "text"),
        message_context(instance, first.id, "html"),
        message_context(instance + "-other", first.id, "text"),
        f"{instance}/{first.id}/text",  # a provider secret's context
    ):
        with pytest.raises(SecretError):
            box.open(row.text_sealed, context)


async def test_idempotency_digests_do_not_reveal_short_bodies(
    provider: str, sender: Mailer, server: RunningServer
) -> None:
    # A plain SHA-256 of the request would let anyone with the database try every 6-digit code.
    sent = await sender.send(text_body="Your code is 000042.", idempotency_key="code-1")
    async with server.services.db.engine.connect() as conn:
        digest = await conn.scalar(
            select(messages.c.request_hash).where(
                messages.c.instance_id == server.instance, messages.c.id == sent.id
            )
        )
    assert digest is not None and digest.startswith(server.services.box.digest(b"", "x").split(":")[0] + ":")
    assert len(digest) <= 64
