"""Reply classes (delivery.md decision 6): what the way an attempt ended means for its message, and
when the provider said to try again.

SMTP is one table, `SMTP_RULES`, read top to bottom: the first row that matches the stage, the
cause, the reply code and the enhanced status code (RFC 3463) decides. HTTP is decided by status.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TypeVar

from mailgate.outbox.model import ReplyClass

from .conversation import Cause
from .report import Stage

PERMANENT = ReplyClass.PERMANENT
PROVIDER_FAULT = ReplyClass.PROVIDER_FAULT
TRANSIENT = ReplyClass.TRANSIENT
T = TypeVar("T")
MAX_HINT = 24 * 3600.0  # seconds; a later hint is not believed (the expiry decides anyway)


@dataclass(frozen=True)
class Rule:
    """One row: the class, and the conditions that must all hold (an empty one holds always)."""

    reply_class: ReplyClass
    why: str
    stages: frozenset[Stage] = frozenset()
    causes: frozenset[Cause] = frozenset()
    codes: frozenset[int] = frozenset()  # exact reply codes
    reply: str = ""  # the reply code's first digit
    enhanced: str = ""  # a prefix of the enhanced status code, "5.7" or "4.7"

    def matches(self, stage: Stage, cause: Cause, code: int, enhanced: str) -> bool:
        """True when every condition of the row holds for this ending."""
        return (
            (not self.stages or stage in self.stages)
            and (not self.causes or cause in self.causes)
            and (not self.codes or code in self.codes)
            and (not self.reply or (code > 0 and str(code).startswith(self.reply)))
            and (not self.enhanced or f"{enhanced}.".startswith(f"{self.enhanced}."))
        )


def _of(*items: T) -> frozenset[T]:
    return frozenset(items)


S, C = Stage, Cause
SMTP_RULES: tuple[Rule, ...] = (
    Rule(
        PROVIDER_FAULT,
        "the provider cannot be reached: its name, the outbound policy, the connection, implicit TLS",
        stages=_of(S.RESOLVE, S.POLICY, S.CONNECT, S.TLS),
    ),
    Rule(PROVIDER_FAULT, "the greeting: 421 or another refusal, silence, a drop", stages=_of(S.GREETING)),
    Rule(TRANSIENT, "the attempt's deadline ran out", stages=_of(S.DEADLINE)),
    Rule(
        PERMANENT,
        "the message cannot be written: recipients, subject, headers, bodies",
        causes=_of(C.MESSAGE),
    ),
    Rule(PROVIDER_FAULT, "the provider's sender name or address cannot be written", causes=_of(C.SENDER)),
    Rule(TRANSIENT, "4.7.x after the greeting: a rate limit or a temporary policy refusal", enhanced="4.7"),
    Rule(TRANSIENT, "any other 4xx reply after the greeting: 421, 450, 451, 452, 454", reply="4"),
    Rule(
        PROVIDER_FAULT,
        "STARTTLS not offered, refused, or its handshake failed or stalled",
        stages=_of(S.STARTTLS),
    ),
    Rule(
        TRANSIENT,
        "no reply in time, the connection dropped, or aiosmtplib refused a step (a local fault)",
        causes=_of(C.TIMEOUT, C.DROPPED, C.NETWORK, C.LOCAL),
    ),
    Rule(PROVIDER_FAULT, "a reply that is not SMTP", causes=_of(C.UNREADABLE)),
    Rule(
        PERMANENT,
        "SMTPUTF8 needed for an address and not offered: retrying cannot help",
        stages=_of(S.MAIL_FROM),
        causes=_of(C.UNSUPPORTED),
    ),
    Rule(PROVIDER_FAULT, "5.7.x: relay, sender or authentication denied", enhanced="5.7"),
    Rule(PROVIDER_FAULT, "530, 534, 535: authentication required or refused", codes=_of(530, 534, 535)),
    Rule(
        PROVIDER_FAULT,
        "EHLO or AUTH failed: refused, not offered, no access token",
        stages=_of(S.EHLO, S.AUTH),
    ),
    Rule(PROVIDER_FAULT, "MAIL FROM refused: the sender is the provider's", stages=_of(S.MAIL_FROM)),
    Rule(PERMANENT, "RCPT TO refused: 5.1.x bad mailbox, 5.2.x, 550, any other 5xx", stages=_of(S.RCPT_TO)),
    Rule(PERMANENT, "the message refused at DATA: size, content (5.3.x, 5.6.x, 554)", stages=_of(S.DATA)),
)
SMTP_FALLBACK = TRANSIENT  # nothing matched (QUIT, say): trying again later is the safe answer


def smtp_rule(stage: Stage, cause: Cause, code: int = 0, enhanced: str = "") -> Rule | None:
    """The row of SMTP_RULES that decides an attempt that ended so, or None (then SMTP_FALLBACK)."""
    return next((rule for rule in SMTP_RULES if rule.matches(stage, cause, code, enhanced)), None)


def smtp_class(stage: Stage, cause: Cause, code: int = 0, enhanced: str = "") -> ReplyClass:
    """The class of an SMTP attempt that ended at `stage` for `cause` with this reply (0: none)."""
    rule = smtp_rule(stage, cause, code, enhanced)
    return rule.reply_class if rule is not None else SMTP_FALLBACK


def http_class(status: int) -> ReplyClass:
    """2xx delivered; 408, 425, 429 and 5xx transient; any other 4xx permanent; the rest (1xx, a
    redirect, which is never followed, a status outside 100-599) the provider's fault."""
    if 200 <= status < 300:
        return ReplyClass.DELIVERED
    if status in (408, 425, 429) or 500 <= status < 600:
        return TRANSIENT
    if 400 <= status < 500:
        return PERMANENT
    return PROVIDER_FAULT


def http_failure_class(stage: Stage) -> ReplyClass:
    """An HTTP attempt without a response: before the request went out the provider's fault, after
    it (no answer in time, a dropped connection) transient."""
    if stage in (Stage.RESOLVE, Stage.POLICY, Stage.CONNECT, Stage.TLS):
        return PROVIDER_FAULT
    return TRANSIENT


def retry_after(header: str | None, now: datetime | None = None) -> float | None:
    """Seconds from an HTTP Retry-After value (delta-seconds or an HTTP-date, RFC 9110 10.2.3), or None."""
    if header is None:
        return None
    text = header.strip()
    if text.isdigit():
        return min(float(text), MAX_HINT)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # an HTTP-date is GMT; the parser leaves some forms naive
        when = when.replace(tzinfo=UTC)
    seconds = (when - (now or datetime.now(UTC))).total_seconds()
    return min(max(seconds, 0.0), MAX_HINT)


# No standard says when to retry an SMTP 4xx, but greylisting and rate-limiting servers commonly
# say it in English: "try again in 5 minutes", "please retry after 300 seconds", "come back in 1 hour".
_SMTP_WHEN = re.compile(
    r"(?:try\s+again|retry|come\s+back|resend)\D{0,20}?\b(?:in|after)\s+(\d{1,6})\s*"
    r"(seconds?|secs?|s|minutes?|mins?|m|hours?|hrs?|h)\b",
    re.IGNORECASE,
)
_UNIT = {"s": 1.0, "m": 60.0, "h": 3600.0}


def smtp_retry_after(code: int, text: str) -> float | None:
    """Seconds a temporary (4xx) SMTP reply asks to wait, when its text says so; else None."""
    if not 400 <= code < 500:
        return None
    match = _SMTP_WHEN.search(text)
    if match is None:
        return None
    return min(int(match.group(1)) * _UNIT[match.group(2)[0].lower()], MAX_HINT)
