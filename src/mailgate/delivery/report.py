"""What a test email or a delivery attempt reports: stages, timeline, the redacted transcript; and the
stage -> ZITADEL error of a failed test email."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from mailgate.errors import Code, TestFailed

from .policy import POLICY_REFUSED_ID, POLICY_REFUSED_TEXT
from .redaction import Redactor

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


class TlsMode(StrEnum):
    """How the connection ended up secured."""

    NONE = "none"
    IMPLICIT = "implicit"
    STARTTLS = "starttls"


@dataclass(frozen=True)
class TestStep:
    """One stage of a test email as it happened: when, how long, the server's last reply there."""

    __test__ = False  # not a pytest test class, despite the name

    stage: Stage
    started_ms: int
    duration_ms: int
    reply_code: int = 0
    enhanced_status_code: str = ""
    reply_text: str = ""  # the reply's first line, redacted and cut


@dataclass(frozen=True)
class TestReport:
    """What happened during a test email, redacted and size-limited: never a secret.

    `stage` is how it ended (DONE on success); `steps` every stage it went through, in order.
    """

    __test__ = False

    stage: Stage
    reply_code: int = 0  # the server's last reply at `stage`; 0 when it sent none
    enhanced_status_code: str = ""
    reply_text: str = ""
    elapsed_ms: int = 0
    transcript: tuple[str, ...] = ()  # "C: " client lines, "S: " server lines, "* " notes
    detail: str = ""  # what went wrong on our side, in English
    host: str = ""
    address: str = ""  # the IP address connected to, after the outbound policy
    tls_mode: TlsMode | None = None
    auth_mechanism: str = ""
    steps: tuple[TestStep, ...] = ()


# ZITADEL's ids and English texts (spec 7.3) for a failure at each stage.
_DIAL = ("EMAIL-skwos", "could not contact with the SMTP server, check the port, firewall issues...")
_ERRORS: dict[Stage, tuple[Code, str | None, str]] = {
    Stage.RESOLVE: (Code.INTERNAL, *_DIAL),
    Stage.POLICY: (Code.FAILED_PRECONDITION, POLICY_REFUSED_ID, POLICY_REFUSED_TEXT),
    Stage.CONNECT: (Code.INTERNAL, *_DIAL),
    # ZITADEL's dial includes reading the greeting, and EHLO failures surface from the same client.
    Stage.GREETING: (Code.INTERNAL, *_DIAL),
    Stage.EHLO: (Code.INTERNAL, *_DIAL),
    Stage.TLS: (
        Code.INTERNAL,
        "EMAIL-sl39s",
        "could not contact with the SMTP server using TLS, check the port, firewall issues...",
    ),
    Stage.STARTTLS: (Code.INTERNAL, "EMAIL-guvsQ", "could not start tls"),
    Stage.AUTH: (
        Code.INTERNAL,
        "EMAIL-s9kfs",
        "could not add smtp auth, check if both your user and password are correct, if they're correct "
        "maybe your provider requires an auth method not supported by ZITADEL",
    ),
    Stage.MAIL_FROM: (Code.INTERNAL, "EMAIL-s3is3", "could not set sender"),
    Stage.RCPT_TO: (Code.INTERNAL, "EMAIL-s4is4", "could not set recipient"),
    Stage.DEADLINE: (Code.DEADLINE_EXCEEDED, DEADLINE_ID, DEADLINE_TEXT),
}
# ZITADEL has this id only in a mirror without an English text; ours says what to check.
_XOAUTH2 = (
    Code.INTERNAL,
    "EMAIL-av88SB",
    "could not authenticate with XOAUTH2, check the user, token endpoint, client id, client secret "
    "and scopes",
)
SPLIT_ERROR = (Code.INTERNAL, "EMAIL-spR56", "could not split host and port for connect to smtp")

# Size limits: the report travels in a gRPC trailer (grpc-status-details-bin), which proxies and
# clients cap at 8-16 KiB, so the whole report must stay a few KiB.
MAX_LINE = 300
MAX_TRANSCRIPT = 3000
MAX_REPLY = 1000
MAX_STEP_REPLY = 160

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


@dataclass
class _Step:
    """A stage as it happened: when it began (clock reading) and the server's last reply in it."""

    stage: Stage
    started: float
    reply_code: int = 0
    reply_text: str = ""


class Recorder:
    """Collects one test's (or delivery attempt's) transcript, current stage, last server reply and
    timing; builds the report."""

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

    def skip_to(self, stage: Stage) -> None:
        """Begin at `stage` rather than RESOLVE (an attempt on an open, pooled connection); the time
        so far counts to it. Once anything was recorded this is an ordinary change of stage."""
        first = self._steps[0]
        if len(self._steps) == 1 and not self._lines and not first.reply_code:
            first.stage = stage
        else:
            self.stage = stage

    def remember(self, code: int, message: str) -> None:
        """Make a reply the stage's reply (the one the report shows) without recording it again."""
        # A reply code is three digits; aiosmtplib parses "-12" as -12, which the report cannot hold.
        self.reply_code = code if 0 <= code <= 999 else 0
        self.reply_text = _utf8(message)
        self._steps[-1].reply_code, self._steps[-1].reply_text = self.reply_code, self.reply_text

    def server(self, code: int, message: str) -> None:
        """Record a server reply (all its lines) and remember it as the stage's reply."""
        self.remember(code, message)
        self.transcribe(code, message)

    def transcribe(self, code: int, message: str) -> None:
        """Record a server reply in the transcript only: one that decides nothing (a reply to a
        command pipelined after a refused one)."""
        lines = _utf8(message).split("\n")
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

    def _timeline(self) -> tuple[TestStep, ...]:
        ends = [step.started for step in self._steps[1:]] + [self._clock()]
        return tuple(
            TestStep(
                stage=step.stage,
                started_ms=_ms(step.started - self._started),
                duration_ms=_ms(end - step.started),
                reply_code=step.reply_code,
                enhanced_status_code=enhanced_status(step.reply_code, step.reply_text),
                reply_text=_clip(self._scrubbed_reply(step.reply_text).split("\n", 1)[0], MAX_STEP_REPLY),
            )
            for step, end in zip(self._steps, ends, strict=True)
        )

    def report(self, stage: Stage, detail: str = "") -> TestReport:
        """The report for ending at `stage`, everything scrubbed and size-limited."""
        scrub = self.redactor.scrub
        return TestReport(
            stage=stage,
            reply_code=self.reply_code,
            enhanced_status_code=enhanced_status(self.reply_code, self.reply_text),
            reply_text=_clip(self._scrubbed_reply(self.reply_text), MAX_REPLY),
            elapsed_ms=self.elapsed_ms,
            transcript=tuple(self.transcript()),
            detail=_clip(scrub(_utf8(detail)), MAX_REPLY),
            host=scrub(self.host),
            address=self.address,
            tls_mode=self.tls_mode,
            auth_mechanism=self.auth_mechanism,
            steps=self._timeline(),
        )

    def failure(
        self,
        stage: Stage,
        detail: str,
        *,
        xoauth2: bool = False,
        error: tuple[Code, str | None, str] | None = None,
    ) -> TestFailed:
        """The error for failing a test email at `stage`, with the report attached (see `as_test_failure`)."""
        return as_test_failure(self.report(stage, detail), xoauth2=xoauth2, error=error)


def as_test_failure(
    report: TestReport, *, xoauth2: bool = False, error: tuple[Code, str | None, str] | None = None
) -> TestFailed:
    """A test email's failure: ZITADEL's code, id and text for the report's stage (or `error`), with
    the report attached.

    DATA and QUIT failures carry no id and the server's reply as text, as ZITADEL's do.
    """
    stage = report.stage
    if error is not None:
        code, error_id, text = error
    elif stage is Stage.AUTH and xoauth2:
        code, error_id, text = _XOAUTH2
    elif stage in _ERRORS:
        code, error_id, text = _ERRORS[stage]
    else:
        code, error_id = Code.UNKNOWN, None
        reply = f"{report.reply_code} {report.reply_text}" if report.reply_code else ""
        text = reply or report.detail or "the SMTP server did not accept the test email"
    return TestFailed(code, error_id, text, report)
