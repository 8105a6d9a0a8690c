"""The delivery engine the outbox's workers use (`sending.Sender`): one attempt per call, SMTP through
the connection pool, HTTP by a signed POST, always an AttemptResult with the redacted report."""

from __future__ import annotations

import logging
import secrets
import traceback

from mailgate.config import Settings
from mailgate.outbox.model import ReplyClass

from .conversation import SmtpClient
from .http_sender import HttpSender
from .policy import Resolver
from .pool import SmtpPool
from .redaction import Redactor
from .report import Recorder
from .sending import AttemptResult, DeliveryTarget, HttpTarget, OutgoingEmail, Sender, SmtpTarget
from .smtp_delivery import SmtpDelivery

log = logging.getLogger(__name__)


class DeliveryEngine(Sender):
    """Sends notifications. One per process: it owns the SMTP pool and the HTTP clients; pass the
    test emails' SmtpTester as `client` to share the outbound policy, TLS trust and token cache."""

    def __init__(
        self, settings: Settings, client: SmtpClient | None = None, *, resolver: Resolver | None = None
    ) -> None:
        self.client = client or SmtpClient(settings, resolver=resolver)
        self.pool = SmtpPool(settings)
        self._smtp = SmtpDelivery(self.client, self.pool)
        self._http = HttpSender(settings, self.client.policy)

    async def send(self, email: OutgoingEmail, target: DeliveryTarget) -> AttemptResult:
        """One attempt to hand `email` to `target`; never raises for what the provider, the network
        or mailgate itself did (an unexpected fault is logged and TRANSIENT)."""
        rec = _recorder(target)
        try:
            if isinstance(target, SmtpTarget):
                result = await self._smtp.send(email, target, rec)
            else:
                result = await self._http.send(email, target, rec)
        except Exception as exc:  # the contract: an attempt ends as a result, whatever happened
            result = _unexpected(exc, rec, target)
        report = result.report
        log.info(
            "delivery attempt of %s via provider %s: %s at stage %s after %d ms",
            email.message_id,
            target.provider_id,
            result.reply_class,
            report.stage,
            report.elapsed_ms,
            extra={
                "message_id": email.message_id,
                "provider_id": target.provider_id,
                "reply_class": str(result.reply_class),
                "stage": str(report.stage),
                "reply_code": report.reply_code,
                "detail": report.detail or report.reply_text,
            },
        )
        log.debug("delivery attempt transcript:\n%s", "\n".join(report.transcript))
        return result

    async def close(self) -> None:
        """Close pooled SMTP connections and HTTP clients; call it after the last send returned."""
        await self.pool.close()
        await self._http.close()


def _recorder(target: DeliveryTarget) -> Recorder:
    redactor = Redactor()
    if isinstance(target, HttpTarget):
        redactor.add(target.signing_key.value)
        return Recorder(target.endpoint, redactor)
    if target.auth.secret is not None:
        redactor.add(target.auth.secret.value)
    return Recorder(target.settings.host, redactor)


def _unexpected(exc: Exception, rec: Recorder, target: DeliveryTarget) -> AttemptResult:
    correlation = secrets.token_hex(8)
    # Formatted and scrubbed here: a traceback may quote values, and no secret reaches a log line.
    trace = rec.redactor.scrub("".join(traceback.format_exception(exc)))
    log.error(
        "unexpected failure in a delivery attempt via provider %s (correlation id %s)",
        target.provider_id,
        correlation,
        extra={"provider_id": target.provider_id, "correlation_id": correlation, "error": trace},
    )
    detail = f"an unexpected error in mailgate (correlation id {correlation}); the log has the details"
    rec.note(detail)
    return AttemptResult(ReplyClass.TRANSIENT, rec.report(rec.stage, detail))
