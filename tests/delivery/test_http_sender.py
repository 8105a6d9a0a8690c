"""HTTP providers against a real local receiver that verifies ZITADEL-Signature as zitadel-go does:
the payload, the headers, every status class, redirects, the outbound policy, deadlines."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest

from mailgate.config import Settings
from mailgate.delivery.deliver import DeliveryEngine
from mailgate.delivery.http_sender import signature_header
from mailgate.delivery.report import Stage, TlsMode
from mailgate.delivery.sending import HttpTarget
from mailgate.outbox.model import Bodies, ReplyClass
from mailgate.providers.sealing import Secret
from tests.delivery.conftest import Pki
from tests.fixtures.secrets import assert_no_secrets

from .engine import make_engine, notification
from .sinks import SIGNING_KEY, Answer, HttpReceiver, verify_signature


@pytest.fixture
def receiver(pki: Pki) -> Iterator[HttpReceiver]:
    running = HttpReceiver(pki.server)
    yield running
    running.close()


@pytest.fixture
def plain_receiver() -> Iterator[HttpReceiver]:
    running = HttpReceiver()
    yield running
    running.close()


@pytest.fixture
async def engine(settings: Settings) -> AsyncIterator[DeliveryEngine]:
    engine = make_engine(settings)
    yield engine
    await engine.close()


def target(endpoint: str, key: str = SIGNING_KEY) -> HttpTarget:
    return HttpTarget("p-http", endpoint, Secret(key))


async def test_a_signed_post_of_the_documented_payload(
    engine: DeliveryEngine, receiver: HttpReceiver, caplog: pytest.LogCaptureFixture
) -> None:
    sent = notification(
        "bob@example.com",
        "Jörg@bücher.example",
        subject="Reset your password",
        bodies=Bodies("Use code 123456.", "<p>Use code <b>123456</b>.</p>"),
        reply_to="help@acme.example",
        headers=(("List-Unsubscribe", "<https://acme.example/u/1>"),),
        idempotency_key="reset-42",
        category="password_reset",
    )
    result = await engine.send(sent, target(receiver.url()))

    assert result.reply_class is ReplyClass.DELIVERED, result.report
    report = result.report
    assert (report.stage, report.reply_code, report.tls_mode, report.address) == (
        Stage.DONE,
        202,
        TlsMode.IMPLICIT,
        "127.0.0.1",
    )
    assert [step.stage for step in report.steps] == [Stage.RESOLVE, Stage.CONNECT, Stage.TLS, Stage.DATA]
    [request] = receiver.requests
    assert request.verdict == ""  # zitadel-go's verifier accepts it
    assert re.fullmatch(r"t=\d+,v1=[0-9a-f]{64}", request.headers["ZITADEL-Signature"])
    assert abs(int(request.headers["ZITADEL-Signature"][2:12]) - time.time()) < 60
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["Idempotency-Key"] == "reset-42"
    assert request.headers["Host"] == f"token.test:{receiver.port}"
    assert request.path == "/mail"
    assert request.document == {
        "messageId": sent.message_id,
        "to": ["bob@example.com", "Jörg@bücher.example"],
        "replyTo": "help@acme.example",
        "subject": "Reset your password",
        "text": "Use code 123456.",
        "html": "<p>Use code <b>123456</b>.</p>",
        "headers": {"List-Unsubscribe": "<https://acme.example/u/1>"},
        "category": "password_reset",
        "idempotencyKey": "reset-42",
    }
    assert_no_secrets(caplog, report, extra=[SIGNING_KEY])


async def test_without_a_key_the_message_id_is_the_idempotency_key_of_every_attempt(
    engine: DeliveryEngine, plain_receiver: HttpReceiver
) -> None:
    sent = notification(bodies=Bodies("text only", None))
    for _ in range(2):
        result = await engine.send(sent, target(plain_receiver.url(scheme="http")))
        assert result.reply_class is ReplyClass.DELIVERED
        assert [step.stage for step in result.report.steps][-1] is Stage.DATA
        assert result.report.tls_mode is None
    first, second = plain_receiver.requests
    assert first.headers["Idempotency-Key"] == second.headers["Idempotency-Key"] == sent.message_id
    assert first.document["idempotencyKey"] is None and first.document["html"] is None
    assert first.body == second.body  # the same bytes signed on every attempt (but for t)


async def test_no_signing_key_no_signature(engine: DeliveryEngine, plain_receiver: HttpReceiver) -> None:
    plain_receiver.verify = False
    result = await engine.send(notification(), target(plain_receiver.url(scheme="http"), key=""))
    assert result.reply_class is ReplyClass.DELIVERED
    [request] = plain_receiver.requests
    assert "ZITADEL-Signature" not in request.headers


async def test_a_receiver_with_another_key_refuses_it(engine: DeliveryEngine, receiver: HttpReceiver) -> None:
    receiver.key = "someone-else's-key"
    result = await engine.send(notification(), target(receiver.url()))
    assert (result.reply_class, result.report.reply_code) == (ReplyClass.PERMANENT, 401)
    assert result.report.reply_text == 'Unauthorized {"error": "no valid signature"}'


def _in(seconds: int) -> str:
    return format_datetime(datetime.now(UTC) + timedelta(seconds=seconds), usegmt=True)


@pytest.mark.parametrize(
    ("answer", "reply_class", "hint"),
    [
        (Answer(429, {"Retry-After": "30"}), ReplyClass.TRANSIENT, 30.0),
        (Answer(503, {"Retry-After": "in 120 s"}), ReplyClass.TRANSIENT, 120.0),  # as an HTTP-date
        (Answer(500), ReplyClass.TRANSIENT, None),
        (Answer(408), ReplyClass.TRANSIENT, None),
        (Answer(425), ReplyClass.TRANSIENT, None),
        (Answer(400, {"Retry-After": "30"}), ReplyClass.PERMANENT, None),
        (Answer(422), ReplyClass.PERMANENT, None),
        (Answer(200), ReplyClass.DELIVERED, None),
    ],
    ids=["429", "503 date", "500", "408", "425", "400", "422", "200"],
)
async def test_status_classes_and_retry_after(
    engine: DeliveryEngine,
    receiver: HttpReceiver,
    answer: Answer,
    reply_class: ReplyClass,
    hint: float | None,
) -> None:
    if answer.headers.get("Retry-After") == "in 120 s":
        answer.headers["Retry-After"] = _in(120)  # now, not when the cases were collected
    receiver.answer = answer
    result = await engine.send(notification(), target(receiver.url()))
    assert (result.reply_class, result.report.reply_code) == (reply_class, answer.status)
    if hint is None:
        assert result.retry_after is None
    else:
        assert result.retry_after is not None and hint - 5 <= result.retry_after <= hint
    if reply_class is not ReplyClass.DELIVERED:
        assert result.report.stage is Stage.DATA
        assert result.report.detail == f"the provider answered {answer.status}"


async def test_the_answers_text_is_in_the_report(engine: DeliveryEngine, receiver: HttpReceiver) -> None:
    receiver.answer = Answer(400, body=json.dumps({"error": "to:\n  unknown\tdomain"}).encode())
    result = await engine.send(notification(), target(receiver.url()))
    assert result.report.reply_text == 'Bad Request {"error": "to:\\n unknown\\tdomain"}'


async def test_a_redirect_is_not_followed(engine: DeliveryEngine, receiver: HttpReceiver) -> None:
    receiver.answer = Answer(307, {"Location": receiver.url(path="/elsewhere")})
    result = await engine.send(notification(), target(receiver.url()))
    assert (result.reply_class, result.report.reply_code) == (ReplyClass.PROVIDER_FAULT, 307)
    assert result.report.detail == "the provider answered 307; redirects are not followed"
    assert [request.path for request in receiver.requests] == ["/mail"]


async def test_faults_before_an_answer(
    engine: DeliveryEngine, receiver: HttpReceiver, closed_port: int, caplog: pytest.LogCaptureFixture
) -> None:
    cases = {
        f"https://token.test:{closed_port}/x": (Stage.CONNECT, "could not connect"),
        "https://metadata.test/mail": (Stage.POLICY, "169.254.169.254"),
        "https://nowhere.test/mail": (Stage.RESOLVE, "could not resolve nowhere.test"),
        "ftp://token.test/mail": (Stage.RESOLVE, "must be an https:// (or http://) URL"),
        receiver.url(name="uncertified.test"): (Stage.TLS, "uncertified.test"),
    }
    for endpoint, (stage, problem) in cases.items():
        result = await engine.send(notification(), target(endpoint))
        assert (result.reply_class, result.report.stage) == (ReplyClass.PROVIDER_FAULT, stage), endpoint
        assert problem in result.report.detail, result.report.detail
    assert receiver.requests == []
    assert_no_secrets(caplog, extra=[SIGNING_KEY])


async def test_a_silent_receiver_ends_at_the_deadline(
    make_settings: Callable[..., Settings], receiver: HttpReceiver
) -> None:
    engine = make_engine(make_settings(delivery_timeout=0.5))
    receiver.answer = Answer(hang=True)
    try:
        result = await engine.send(notification(), target(receiver.url()))
    finally:
        await engine.close()
    assert (result.reply_class, result.report.stage) == (ReplyClass.TRANSIENT, Stage.DEADLINE)
    assert result.report.detail == "the attempt did not finish within 0.5s; it was at stage data"


async def test_caller_text_that_would_become_a_header_sends_nothing(
    engine: DeliveryEngine, receiver: HttpReceiver
) -> None:
    for broken in (notification(subject="Hi\r\nBcc: x@evil.test"), notification(headers=(("Bcc", "x"),))):
        result = await engine.send(broken, target(receiver.url()))
        assert result.reply_class is ReplyClass.PERMANENT
    assert receiver.requests == []


def test_the_verifier_refuses_what_zitadel_go_refuses() -> None:
    body = b'{"messageId":"<a@b>"}'
    now = time.time()
    good = signature_header(SIGNING_KEY, body, now)
    assert verify_signature(good, body, SIGNING_KEY, now) == ""
    assert verify_signature(good, body + b" ", SIGNING_KEY, now) == "no valid signature"
    assert verify_signature(good, body, SIGNING_KEY, now + 301) == "timestamp wasn't within tolerance"
    assert verify_signature(good.replace(",", ",v0=x=y,"), body, SIGNING_KEY, now).startswith(
        "webhook has invalid"
    )
    assert verify_signature("", body, SIGNING_KEY) == "webhook has no Zitadel-Signature header"
    # Several v1 values (a key rotation) verify when one of them does.
    other = signature_header("old-key", body, now).split(",")[1]
    assert verify_signature(f"{good},{other}", body, SIGNING_KEY, now) == ""
    # ComputeSignatureHeader's layout: "t=<unix seconds>", then "v1=<hex HMAC-SHA256(key, "<t>.<body>")>".
    mac = hmac.new(b"k", b"1700000000.{}", hashlib.sha256).hexdigest()
    assert signature_header("k", b"{}", 1_700_000_000.9) == f"t=1700000000,v1={mac}"


README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


async def test_the_readmes_verifier_accepts_mailgates_requests(
    engine: DeliveryEngine, receiver: HttpReceiver
) -> None:
    [snippet] = [
        block for block in re.findall(r"```python\n(.*?)```", README, re.S) if "def verified" in block
    ]
    namespace: dict[str, Any] = {}
    exec(snippet, namespace)
    await engine.send(notification(), target(receiver.url()))
    [request] = receiver.requests
    verified = namespace["verified"]
    header = request.headers["ZITADEL-Signature"]
    assert verified(header, request.body, SIGNING_KEY)
    assert not verified(header, request.body + b" ", SIGNING_KEY)
    assert not verified(header, request.body, "another key")
    assert not verified("v1=" + header.split("v1=")[1], request.body, SIGNING_KEY)
