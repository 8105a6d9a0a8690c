"""HTTP providers: a signed POST of the documented JSON payload (README, "HTTP providers").

The request goes to an address the outbound policy checked, never follows a redirect, and finishes
within MAILGATE_DELIVERY_TIMEOUT. It carries `Idempotency-Key` and, with the provider's signing key,
ZITADEL's `ZITADEL-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(key, "<t>.<body>")>` (as
zitadel-go's actions.ComputeSignatureHeader writes it), so a receiver written for ZITADEL's HTTP
provider verifies it unchanged. The attempt is recorded in the same report as SMTP attempts:
resolve, policy, connect, tls, then data for the request and its answer.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import httpx

from mailgate.config import Settings
from mailgate.outbox.model import ReplyClass

from .classify import http_class, http_failure_class, retry_after
from .compose import CheckedText, check_text
from .message import MessageTextError
from .outbound_http import outbound_client, read_body, request_to
from .policy import OutboundPolicy, PolicyRefused, ResolveError, parse_ip
from .report import Recorder, Stage, TlsMode
from .sending import AttemptResult, HttpTarget, OutgoingEmail

SIGNATURE_HEADER = "ZITADEL-Signature"
MAX_ANSWER = 64 * 1024  # bytes of a provider's answer read; its first line goes into the report
MAX_CLIENTS = 32  # HTTP clients kept (one per endpoint name), least recently used closed first
_EXCERPT = 300
# httpcore's trace events -> the stage they begin (a kept-alive connection skips the first two).
_TRACE_STAGES = {
    "connection.connect_tcp.started": Stage.CONNECT,
    "connection.start_tls.started": Stage.TLS,
    "http11.send_request_headers.started": Stage.DATA,
    "http2.send_request_headers.started": Stage.DATA,
}


def payload(email: OutgoingEmail, text: CheckedText) -> bytes:
    """The JSON body: compact UTF-8, exactly the bytes that are signed."""
    document = {
        "messageId": text.message_id,
        "to": list(email.to),
        "replyTo": email.reply_to or None,
        "subject": text.subject,
        "text": email.bodies.text,
        "html": email.bodies.html,
        "headers": dict(text.headers),
        "category": email.category,
        "idempotencyKey": email.idempotency_key,
    }
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


def signature_header(signing_key: str, body: bytes, now: float) -> str:
    """ZITADEL-Signature's value: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">."""
    stamp = int(now)
    mac = hmac.new(signing_key.encode(), f"{stamp}.".encode() + body, hashlib.sha256)
    return f"t={stamp},v1={mac.hexdigest()}"


def idempotency_key(email: OutgoingEmail) -> str:
    """The caller's key, else the Message-ID: the same on every attempt of the message. Characters a
    header cannot carry (controls, non-ASCII, "%") are percent-encoded."""
    return quote(email.idempotency_key or email.message_id, safe="!#$&'()*+,-./:;<=>?@[]^_`{|}~")


class HttpSender:
    """Sends notifications to HTTP providers; keeps one HTTP client per endpoint name."""

    def __init__(
        self, settings: Settings, policy: OutboundPolicy, clock: Callable[[], float] = time.time
    ) -> None:
        self.settings = settings
        self.policy = policy
        self.clock = clock  # the signature's timestamp is epoch seconds
        # One client per name: httpx keeps connections per address, and a connection verified for
        # one name must not serve another name on the same address.
        self._clients: OrderedDict[str, httpx.AsyncClient] = OrderedDict()

    async def send(self, email: OutgoingEmail, target: HttpTarget, rec: Recorder) -> AttemptResult:
        """One attempt: every failure an AttemptResult with the report."""
        return await _HttpAttempt(self, email, target, rec).run()

    async def client(self, name: str) -> httpx.AsyncClient:
        """The client for endpoints named `name`."""
        tls = await self.policy.tls_context("http")  # first: no await between the lookup and the insert
        client = self._clients.get(name)
        if client is None:
            timeout = httpx.Timeout(
                self.settings.delivery_timeout, connect=self.settings.smtp_connect_timeout
            )
            client = self._clients[name] = outbound_client(tls, timeout)
        self._clients.move_to_end(name)
        while len(self._clients) > MAX_CLIENTS:
            _, oldest = self._clients.popitem(last=False)
            await oldest.aclose()
        return client

    async def close(self) -> None:
        """Close every kept client and its connections."""
        clients, self._clients = list(self._clients.values()), OrderedDict()
        for client in clients:
            await client.aclose()


class _HttpAttempt:
    def __init__(self, sender: HttpSender, email: OutgoingEmail, target: HttpTarget, rec: Recorder) -> None:
        self.sender = sender
        self.email = email
        self.target = target
        self.rec = rec

    def result(
        self, reply_class: ReplyClass, stage: Stage, detail: str = "", hint: float | None = None
    ) -> AttemptResult:
        return AttemptResult(reply_class, self.rec.report(stage, detail), hint)

    def failed(self, stage: Stage, detail: str) -> AttemptResult:
        self.rec.note(detail)
        return self.result(http_failure_class(stage), stage, detail)

    async def run(self) -> AttemptResult:
        limit = self.sender.settings.delivery_timeout
        try:
            async with asyncio.timeout(limit) as deadline:
                return await self.post()
        except TimeoutError:
            if not deadline.expired():
                raise
            stage = self.rec.stage
            self.rec.note(f"the attempt deadline of {limit:g}s ran out during stage {stage}")
            detail = f"the attempt did not finish within {limit:g}s; it was at stage {stage}"
            return self.result(ReplyClass.TRANSIENT, Stage.DEADLINE, detail)

    async def post(self) -> AttemptResult:
        try:
            body = payload(self.email, check_text(self.email))
        except MessageTextError as exc:  # nothing is sent
            return self.result(ReplyClass.PERMANENT, Stage.DATA, str(exc))
        found = await self.resolve()
        if isinstance(found, AttemptResult):
            return found
        url, host, addresses = found
        headers = {
            "Content-Type": "application/json",
            "Accept": "application/json",
            "Idempotency-Key": idempotency_key(self.email),
        }
        key = self.target.signing_key.value
        if key:  # as ZITADEL: no key, no signature
            headers[SIGNATURE_HEADER] = signature_header(key, body, self.sender.clock())
        client = await self.sender.client(host)
        problems: list[str] = []
        for address in addresses:
            self.rec.stage = Stage.CONNECT
            self.rec.note(
                f"connecting to {address} port {url.port or (443 if url.scheme == 'https' else 80)}"
            )
            request = request_to(
                client, url, host, address, headers=headers, content=body, extensions={"trace": self.trace}
            )
            try:
                response = await client.send(request, stream=True)
            except httpx.HTTPError as exc:
                problem = self.problem(exc)
                if self.rec.stage is not Stage.CONNECT:
                    return self.failed(self.rec.stage, problem)
                problems.append(f"{address}: {problem}")
                continue  # the next address may answer
            self.rec.address = address
            return await self.answered(response)
        return self.failed(Stage.CONNECT, "could not connect: " + "; ".join(problems))

    async def resolve(self) -> tuple[httpx.URL, str, list[str]] | AttemptResult:
        self.rec.stage = Stage.RESOLVE
        endpoint = self.target.endpoint
        try:
            url = httpx.URL(endpoint)
        except httpx.InvalidURL:
            return self.failed(Stage.RESOLVE, "the endpoint is not a valid URL")
        if url.scheme not in ("https", "http") or not url.raw_host:
            return self.failed(Stage.RESOLVE, "the endpoint must be an https:// (or http://) URL")
        # RFC 6874: a zone id in a URL is written %25eth0; the policy reads the host as the system does.
        host = url.raw_host.decode("ascii").replace("%25", "%", 1)
        try:
            addresses = await self.sender.policy.resolve(
                host, url.port or (443 if url.scheme == "https" else 80)
            )
        except ResolveError as exc:
            return self.failed(Stage.RESOLVE, exc.detail)
        except PolicyRefused as exc:
            return self.failed(Stage.POLICY, exc.detail)
        if parse_ip(host) is None:
            self.rec.note(f"{host} resolves to {', '.join(addresses)}")
        return url, host, addresses

    async def trace(self, event: str, info: dict[str, Any]) -> None:  # httpcore's trace signature
        """Follow the request through httpcore: connecting, the TLS handshake, sending."""
        stage = _TRACE_STAGES.get(event)
        if stage is Stage.DATA:
            self.rec.client(f"POST {self.target.endpoint} (application/json)")
        if stage is not None:
            self.rec.stage = stage
        if event == "connection.start_tls.complete" and "exception" not in info:
            self.rec.tls_mode = TlsMode.IMPLICIT

    def problem(self, exc: httpx.HTTPError) -> str:
        """What went wrong, in English, for a request that got no answer."""
        if isinstance(exc, httpx.ConnectTimeout):
            what = "TLS handshake" if self.rec.stage is Stage.TLS else "connection"
            return f"no {what} within {self.sender.settings.smtp_connect_timeout:g}s"
        if isinstance(exc, httpx.TimeoutException):
            return "no answer in time"
        if isinstance(exc, httpx.RemoteProtocolError):
            return f"the server closed the connection or broke HTTP: {exc}"
        return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__

    async def answered(self, response: httpx.Response) -> AttemptResult:
        answer = await read_body(response, MAX_ANSWER)
        status = response.status_code
        excerpt = " ".join((answer or b"").decode("utf-8", "replace").split())[:_EXCERPT]
        self.rec.server(status, f"{response.reason_phrase} {excerpt}".strip())
        reply_class = http_class(status)
        if reply_class is ReplyClass.DELIVERED:
            return self.result(reply_class, Stage.DONE)
        detail = f"the provider answered {status}"
        if 300 <= status < 400:
            detail += "; redirects are not followed"
        hint = (
            retry_after(response.headers.get("Retry-After")) if reply_class is ReplyClass.TRANSIENT else None
        )
        return self.result(reply_class, Stage.DATA, detail, hint)
