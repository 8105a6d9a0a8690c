"""What a test email reports: stages, the redacted transcript, and the stage -> ZITADEL error mapping."""

from __future__ import annotations

import base64
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import cast
from urllib.parse import quote, quote_plus

import grpc

from mailgate.errors import ApiError
from mailgate.gen.mailgate.v1 import smtp_test_report_pb2 as pb
from mailgate.gen.mailgate.v1.smtp_test_report_pb2 import SmtpTestReport

from .policy import POLICY_REFUSED_ID, POLICY_REFUSED_TEXT

DEADLINE_ID = "MG-SMTP-DEADLINE"
DEADLINE_TEXT = "the SMTP test did not finish in time (MAILGATE_SMTP_TEST_TIMEOUT)"

# Every error id mailgate defines itself (ZITADEL's ids are not listed); the README lists them.
MG_ERROR_IDS: dict[str, str] = {
    POLICY_REFUSED_ID: (
        "FAILED_PRECONDITION: the SMTP server or XOAUTH2 token endpoint is (or resolves to) an address "
        "the outbound-address policy refuses: by default loopback, private and shared networks, "
        "link-local, cloud metadata, this-network, multicast, broadcast, reserved, documentation and "
        "benchmarking ranges, and IPv6 forms carrying such an IPv4 address; also MAILGATE_OUTBOUND_DENY. "
        "Nothing was sent to it. The message names the address and the MAILGATE_OUTBOUND_ALLOW range "
        "that would allow it."
    ),
    DEADLINE_ID: (
        "DEADLINE_EXCEEDED: the test email did not finish within MAILGATE_SMTP_TEST_TIMEOUT; "
        "the report's detail names the step it was at."
    ),
}


class Stage(StrEnum):
    """A step of the test email, in the order they happen (plus deadline and done)."""

    RESOLVE = "resolve"
    POLICY = "policy"
    CONNECT = "connect"
    TLS = "tls"
    GREETING = "greeting"
    EHLO = "ehlo"
    STARTTLS = "starttls"
    AUTH = "auth"
    MAIL_FROM = "mail_from"
    RCPT_TO = "rcpt_to"
    DATA = "data"
    QUIT = "quit"
    DEADLINE = "deadline"
    DONE = "done"

    @property
    def proto(self) -> pb.SmtpTestStage:
        """The matching mailgate.v1.SmtpTestStage value."""
        return cast(pb.SmtpTestStage, pb.SmtpTestStage.Value(f"SMTP_TEST_STAGE_{self.name}"))


class TlsMode(StrEnum):
    """How the connection ended up secured."""

    NONE = "none"
    IMPLICIT = "implicit"
    STARTTLS = "starttls"

    @property
    def proto(self) -> pb.SmtpTlsMode:
        """The matching mailgate.v1.SmtpTlsMode value."""
        return cast(pb.SmtpTlsMode, pb.SmtpTlsMode.Value(f"SMTP_TLS_MODE_{self.name}"))


# ZITADEL's ids and English texts (spec 7.3) for a failure at each stage.
_DIAL = ("EMAIL-skwos", "could not contact with the SMTP server, check the port, firewall issues...")
_ERRORS: dict[Stage, tuple[grpc.StatusCode, str | None, str]] = {
    Stage.RESOLVE: (grpc.StatusCode.INTERNAL, *_DIAL),
    Stage.POLICY: (grpc.StatusCode.FAILED_PRECONDITION, POLICY_REFUSED_ID, POLICY_REFUSED_TEXT),
    Stage.CONNECT: (grpc.StatusCode.INTERNAL, *_DIAL),
    # ZITADEL's dial includes reading the greeting, and EHLO failures surface from the same client.
    Stage.GREETING: (grpc.StatusCode.INTERNAL, *_DIAL),
    Stage.EHLO: (grpc.StatusCode.INTERNAL, *_DIAL),
    Stage.TLS: (
        grpc.StatusCode.INTERNAL,
        "EMAIL-sl39s",
        "could not contact with the SMTP server using TLS, check the port, firewall issues...",
    ),
    Stage.STARTTLS: (grpc.StatusCode.INTERNAL, "EMAIL-guvsQ", "could not start tls"),
    Stage.AUTH: (
        grpc.StatusCode.INTERNAL,
        "EMAIL-s9kfs",
        "could not add smtp auth, check if both your user and password are correct, if they're correct "
        "maybe your provider requires an auth method not supported by ZITADEL",
    ),
    Stage.MAIL_FROM: (grpc.StatusCode.INTERNAL, "EMAIL-s3is3", "could not set sender"),
    Stage.RCPT_TO: (grpc.StatusCode.INTERNAL, "EMAIL-s4is4", "could not set recipient"),
    Stage.DEADLINE: (grpc.StatusCode.DEADLINE_EXCEEDED, DEADLINE_ID, DEADLINE_TEXT),
}
# ZITADEL has this id only in a mirror without an English text; ours says what to check.
_XOAUTH2 = (
    grpc.StatusCode.INTERNAL,
    "EMAIL-av88SB",
    "could not authenticate with XOAUTH2, check the user, token endpoint, client id, client secret "
    "and scopes",
)
SPLIT_ERROR = (grpc.StatusCode.INTERNAL, "EMAIL-spR56", "could not split host and port for connect to smtp")

# Size limits: the report travels in a gRPC trailer (grpc-status-details-bin), which proxies and
# clients cap at 8-16 KiB, so the whole report must stay a few KiB.
MAX_LINE = 300
MAX_TRANSCRIPT = 3000
MAX_REPLY = 1000
MAX_STEP_REPLY = 160
REDACTED = "[redacted]"

_ENHANCED = re.compile(r"^([245])\.(\d{1,3})\.(\d{1,3})(?=\s|$)")


def enhanced_status(code: int, text: str) -> str:
    """The RFC 3463 enhanced status code at the start of a reply text ("5.7.1"), or ""."""
    match = _ENHANCED.match(text.lstrip())
    if match is None or (code and str(code)[0] != match.group(1)):
        return ""
    return ".".join(match.groups())


def _status_split(line: str) -> tuple[str, str]:
    """A reply line as (its enhanced status code and the space after it, the rest): servers repeat
    the code on every line, and a secret wrapped over two lines must still read as one."""
    match = _ENHANCED.match(line)
    if match is None:
        return "", line
    end = len(line) - len(line[match.end() :].lstrip())
    return line[:end], line[end:]


def _ms(seconds: float) -> int:
    return max(0, round(seconds * 1000))


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _utf8(text: str) -> str:
    """Peer text as valid UTF-8: aiosmtplib keeps undecodable bytes as surrogate escapes, which
    protobuf cannot serialize."""
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    except UnicodeEncodeError:  # a surrogate that is no escape
        return text.encode("utf-8", "replace").decode("utf-8")


class Redactor:
    """Removes known secrets, and their base64 and URL-encoded forms, from any text."""

    def __init__(self, secrets: Iterable[str | bytes] = ()) -> None:
        self._forms: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        for secret in secrets:
            self.add(secret)

    def add(self, secret: str | bytes) -> None:
        """Register a secret; later `scrub` calls replace it wherever it appears."""
        raw = secret.encode() if isinstance(secret, str) else secret
        if not raw:
            return
        text = raw.decode("utf-8", "replace")
        forms = {
            text,
            quote(text, safe=""),
            quote_plus(text, safe=""),
            base64.b64encode(raw).decode(),
            base64.urlsafe_b64encode(raw).decode(),
        }
        # base64 without its "=" padding too, as tokens are sometimes written that way.
        forms |= {form.rstrip("=") for form in forms if form.rstrip("=")}
        self._forms |= forms
        self._pattern = None

    def _compiled(self) -> re.Pattern[str] | None:
        if self._pattern is None and self._forms:
            ordered = sorted(self._forms, key=len, reverse=True)
            self._pattern = re.compile("|".join(re.escape(form) for form in ordered))
        return self._pattern

    def scrub(self, text: str) -> str:
        """`text` with every registered secret replaced by "[redacted]" (one pass, longest first)."""
        pattern = self._compiled()
        return pattern.sub(REDACTED, text) if pattern is not None and text else text

    def scrub_pieces(self, pieces: Sequence[str]) -> list[str]:
        """`pieces` with every secret replaced, also one split across pieces (a server wrapping an
        echoed password over two reply lines): matched in their concatenation, not piece by piece."""
        pattern = self._compiled()
        joined = "".join(pieces)
        spans = [match.span() for match in pattern.finditer(joined)] if pattern is not None else []
        if not spans:
            return list(pieces)
        scrubbed: list[str] = []
        start = 0
        for piece in pieces:
            end = start + len(piece)
            parts, position = [], start
            for low, high in spans:
                if high > start and low < end:  # this match covers part of this piece
                    parts += [joined[position : max(low, start)], REDACTED]
                    position = min(high, end)
            parts.append(joined[position:end])
            scrubbed.append("".join(parts))
            start = end
        return scrubbed


class SmtpTestFailed(ApiError):
    """A failed test email: ZITADEL's code, id and text, with the SmtpTestReport as extra detail."""

    def __init__(
        self, code: grpc.StatusCode, error_id: str | None, text: str, report: SmtpTestReport
    ) -> None:
        super().__init__(code, error_id, text, details=(report,))
        self.report = report

    @property
    def stage(self) -> Stage:
        """The stage that failed."""
        return Stage[pb.SmtpTestStage.Name(self.report.stage).removeprefix("SMTP_TEST_STAGE_")]


@dataclass
class _Step:
    """A stage as it happened: when it began (clock reading) and the server's last reply in it."""

    stage: Stage
    started: float
    reply_code: int = 0
    reply_text: str = ""


class Recorder:
    """Collects one test's transcript, current stage, last server reply and timing; builds the report."""

    def __init__(self, host: str, redactor: Redactor, clock: Callable[[], float] = time.monotonic) -> None:
        self.host = host
        self.redactor = redactor
        self._clock = clock
        self._started = clock()
        self._steps = [_Step(Stage.RESOLVE, self._started)]
        # (prefix, text) as recorded: redacted only when the report is built, over all lines at
        # once, so a secret split over two lines is still found.
        self._lines: list[tuple[str, str]] = []
        self.reply_code = 0
        self.reply_text = ""
        self.address = ""
        self.tls_mode: TlsMode | None = None
        self.auth_mechanism = ""

    @property
    def stage(self) -> Stage:
        """The stage in progress."""
        return self._steps[-1].stage

    @stage.setter
    def stage(self, stage: Stage) -> None:
        # A reply belongs to the stage that received it; a new stage starts without one.
        if stage is not self.stage:
            self.reply_code, self.reply_text = 0, ""
            self._steps.append(_Step(stage, self._clock()))

    @property
    def elapsed_ms(self) -> int:
        """Milliseconds since the test started."""
        return _ms(self._clock() - self._started)

    def client(self, line: str) -> None:
        """Record a line the client sent (already free of AUTH payloads; scrubbed again anyway)."""
        self._lines.append(("C: ", line))

    def server(self, code: int, message: str) -> None:
        """Record a server reply (all its lines) and remember it as the stage's reply."""
        # A reply code is three digits; aiosmtplib parses "-12" as -12, which the report cannot hold.
        self.reply_code = code if 0 <= code <= 999 else 0
        self.reply_text = _utf8(message)
        self._steps[-1].reply_code, self._steps[-1].reply_text = self.reply_code, self.reply_text
        lines = self.reply_text.split("\n")
        for index, line in enumerate(lines):
            sep = "-" if index < len(lines) - 1 else " "
            status, rest = _status_split(line)
            self._lines.append((f"S: {code}{sep}{status}", rest))

    def note(self, text: str) -> None:
        """Record something that is neither client nor server text (connecting, TLS, timeouts)."""
        self._lines.append(("* ", _utf8(text)))

    def transcript(self) -> list[str]:
        """The redacted transcript, cut in the middle when too long: the start and the end matter most."""
        texts = self.redactor.scrub_pieces([text for _, text in self._lines])
        lines = [
            _clip((prefix + text).rstrip(), MAX_LINE)
            for (prefix, _), text in zip(self._lines, texts, strict=True)
        ]
        if sum(len(line) for line in lines) <= MAX_TRANSCRIPT:
            return lines
        head: list[str] = []
        tail: list[str] = []
        budget = MAX_TRANSCRIPT // 2
        for line in lines:
            if budget - len(line) < 0:
                break
            head.append(line)
            budget -= len(line)
        budget = MAX_TRANSCRIPT // 2
        for line in reversed(lines[len(head) :]):
            if budget - len(line) < 0:
                break
            tail.insert(0, line)
            budget -= len(line)
        left_out = len(lines) - len(head) - len(tail)
        return [*head, f"* ... {left_out} lines left out ...", *tail]

    def _scrubbed_reply(self, text: str) -> str:
        """A reply's text redacted over its joined lines, each line's enhanced status code kept."""
        statuses, rests = zip(*map(_status_split, text.split("\n")), strict=True)
        scrubbed = self.redactor.scrub_pieces(rests)
        return "\n".join(status + rest for status, rest in zip(statuses, scrubbed, strict=True))

    def _timeline(self) -> list[pb.SmtpTestStep]:
        ends = [step.started for step in self._steps[1:]] + [self._clock()]
        return [
            pb.SmtpTestStep(
                stage=step.stage.proto,
                started_ms=_ms(step.started - self._started),
                duration_ms=_ms(end - step.started),
                reply_code=step.reply_code,
                enhanced_status_code=enhanced_status(step.reply_code, step.reply_text),
                reply_text=_clip(self._scrubbed_reply(step.reply_text).split("\n", 1)[0], MAX_STEP_REPLY),
            )
            for step, end in zip(self._steps, ends, strict=True)
        ]

    def report(self, stage: Stage, detail: str = "") -> SmtpTestReport:
        """The SmtpTestReport for ending at `stage`, everything scrubbed and size-limited."""
        scrub = self.redactor.scrub
        return SmtpTestReport(
            stage=stage.proto,
            reply_code=self.reply_code,
            enhanced_status_code=enhanced_status(self.reply_code, self.reply_text),
            reply_text=_clip(self._scrubbed_reply(self.reply_text), MAX_REPLY),
            elapsed_ms=self.elapsed_ms,
            transcript=self.transcript(),
            detail=_clip(scrub(_utf8(detail)), MAX_REPLY),
            host=scrub(self.host),
            address=self.address,
            tls_mode=self.tls_mode.proto if self.tls_mode else pb.SMTP_TLS_MODE_UNSPECIFIED,
            auth_mechanism=self.auth_mechanism,
            steps=self._timeline(),
        )

    def failure(
        self,
        stage: Stage,
        detail: str,
        *,
        xoauth2: bool = False,
        error: tuple[grpc.StatusCode, str | None, str] | None = None,
    ) -> SmtpTestFailed:
        """The error for failing at `stage`: ZITADEL's code/id/text (or `error`), with the report attached.

        DATA and QUIT failures carry no id and the server's reply as text, as ZITADEL's do.
        """
        report = self.report(stage, detail)
        if error is not None:
            code, error_id, text = error
        elif stage is Stage.AUTH and xoauth2:
            code, error_id, text = _XOAUTH2
        elif stage in _ERRORS:
            code, error_id, text = _ERRORS[stage]
        else:
            code, error_id = grpc.StatusCode.UNKNOWN, None
            reply = f"{report.reply_code} {report.reply_text}" if report.reply_code else ""
            text = reply or report.detail or "the SMTP server did not accept the test email"
        return SmtpTestFailed(code, error_id, text, report)
