"""A test email's report as a timeline: one step per SMTP stage with the server's reply.

The steps come from the report's transcript ("C: ", "S: " and "* " lines): each client command
opens the step of its stage, server lines before the first command are the greeting, and notes
before any server line belong to connecting. `render` lays them out for a terminal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mailgate.gen.mailgate.v1 import smtp_test_report_pb2 as pb
from mailgate.gen.mailgate.v1.smtp_test_report_pb2 import SmtpTestReport

from .report import Stage

# The stage a client command belongs to, by its verb; other client lines (AUTH continuations,
# shown as "[redacted]") stay in the step they continue.
_COMMAND_STAGES = {
    "EHLO": Stage.EHLO,
    "HELO": Stage.EHLO,
    "STARTTLS": Stage.STARTTLS,
    "AUTH": Stage.AUTH,
    "MAIL": Stage.MAIL_FROM,
    "RCPT": Stage.RCPT_TO,
    "DATA": Stage.DATA,
    "QUIT": Stage.QUIT,
}
# Stages that end before the server says anything.
_BEFORE_GREETING = frozenset({Stage.RESOLVE, Stage.POLICY, Stage.CONNECT, Stage.TLS})
_SERVER_LINE = re.compile(r"S: (\d{3})([- ]?)(.*)")
MAX_SUMMARY = 160


@dataclass
class Step:
    """One stage of the conversation: the server's last reply there, or the last note."""

    stage: Stage
    reply: str = ""  # "250 2.1.0 Ok"; a multi-line reply's further lines follow in parentheses
    note: str = ""
    failed: bool = False

    @property
    def summary(self) -> str:
        """What to show for the step: the reply if the server sent one, else the note."""
        text = self.reply or self.note
        return text if len(text) <= MAX_SUMMARY else text[: MAX_SUMMARY - 1] + "…"


def report_stage(report: SmtpTestReport) -> Stage:
    """The stage the report ended at (done on success)."""
    return Stage[pb.SmtpTestStage.Name(report.stage).removeprefix("SMTP_TEST_STAGE_")]


def steps(report: SmtpTestReport) -> list[Step]:
    """The report's steps in order; on failure the last one is marked failed."""
    found: list[Step] = []
    reply: list[str] = []
    for line in report.transcript:
        if line.startswith("C: "):
            stage = _COMMAND_STAGES.get(line[3:].split(" ", 1)[0].upper())
            if stage is not None:
                found.append(Step(stage))
        elif line.startswith("S: "):
            if not found or found[-1].stage is Stage.CONNECT:
                found.append(Step(Stage.GREETING))
            reply = _add_reply_line(found[-1], line, reply)
        elif line.startswith("* "):
            if not found:
                found.append(Step(Stage.CONNECT))
            found[-1].note = line[2:]
    _mark_end(found, report)
    return found


def _add_reply_line(step: Step, line: str, pending: list[str]) -> list[str]:
    """Collect one server line; a reply's last line (no "-" after the code) completes the step's reply."""
    match = _SERVER_LINE.fullmatch(line)
    if match is None:
        return pending
    code, separator, text = match.groups()
    pending = [*pending, text]
    if separator == "-":
        return pending
    rest = f" ({', '.join(pending[1:])})" if len(pending) > 1 else ""
    step.reply = f"{code} {pending[0]}".rstrip() + rest
    return []


def _mark_end(found: list[Step], report: SmtpTestReport) -> None:
    end = report_stage(report)
    if end is Stage.DONE:
        return
    if end in _BEFORE_GREETING and found and all(not step.reply for step in found):
        found[0].stage = end  # nothing was said yet: the notes are all about this stage
    if end is Stage.DEADLINE and found:
        found[-1].failed = True  # the step it was at when time ran out
    if found and found[-1].stage is end:
        found[-1].failed = True
        if not found[-1].reply:
            found[-1].note = report.detail or found[-1].note
    else:
        found.append(Step(end, note=report.detail, failed=True))


def _describe_connection(report: SmtpTestReport) -> str:
    parts = [f"address {report.address or '-'}"]
    if report.tls_mode:
        parts.append("tls " + pb.SmtpTlsMode.Name(report.tls_mode).removeprefix("SMTP_TLS_MODE_").lower())
    if report.auth_mechanism:
        parts.append(f"auth {report.auth_mechanism}")
    return ", ".join(parts)


def render(report: SmtpTestReport) -> str:
    """The timeline, the redacted transcript and the outcome, as lines of text for a terminal."""
    found = steps(report)
    width = max((len(step.stage.value) for step in found), default=5)
    lines = [f"SMTP test of {report.host} ({_describe_connection(report)})", ""]
    lines.append(f"       {'stage':<{width}}  reply")
    for step in found:
        mark = "FAIL" if step.failed else "ok"
        lines.append(f"  {mark:<4} {step.stage.value:<{width}}  {step.summary}".rstrip())
    lines += ["", "transcript (secrets redacted):"]
    lines += [f"  {line}" for line in report.transcript] or ["  (empty)"]
    lines.append("")
    end = report_stage(report)
    if end is Stage.DONE:
        lines.append(f"OK: the test email was accepted, in {report.elapsed_ms} ms")
    else:
        why = report.detail or (f"{report.reply_code} {report.reply_text}" if report.reply_code else "")
        outcome = f"FAILED at stage {end.value} after {report.elapsed_ms} ms"
        lines.append(f"{outcome}: {why}" if why else outcome)
    return "\n".join(lines)
