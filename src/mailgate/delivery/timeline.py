"""A test email's report as a timeline for a terminal: one row per stage with its time and reply.

The rows are the report's `steps`. A test that ended in a stage it never entered (the outbound
policy refusing an address, the overall deadline) gets that stage as a last, failed row.
"""

from __future__ import annotations

from dataclasses import dataclass

from .report import Stage, TestReport

MAX_SUMMARY = 160


@dataclass(frozen=True)
class Step:
    """One row: a stage, how long it took, what the server last said there (or what went wrong)."""

    stage: Stage
    duration_ms: int
    summary: str
    failed: bool = False


def _clip(text: str) -> str:
    return text if len(text) <= MAX_SUMMARY else text[: MAX_SUMMARY - 1] + "…"


def steps(report: TestReport) -> list[Step]:
    """The report's stages in order; on failure the stage that failed is the last row, marked."""
    end = report.stage
    found = []
    for step in report.steps:
        reply = f"{step.reply_code} {step.reply_text}".rstrip() if step.reply_code else ""
        found.append(Step(step.stage, step.duration_ms, reply))
    if end is Stage.DONE:
        return found
    last = found[-1] if found else None
    if last is not None and (last.stage is end or end is Stage.DEADLINE):
        # Failed where it was: show why, unless the server's own reply says it.
        found[-1] = Step(last.stage, last.duration_ms, _clip(last.summary or report.detail), failed=True)
    if last is None or last.stage is not end:
        found.append(Step(end, 0, _clip(report.detail), failed=True))
    return found


def _describe_connection(report: TestReport) -> str:
    parts = [f"address {report.address or '-'}"]
    if report.tls_mode is not None:
        parts.append(f"tls {report.tls_mode.value}")
    if report.auth_mechanism:
        parts.append(f"auth {report.auth_mechanism}")
    return ", ".join(parts)


def render(report: TestReport) -> str:
    """The timeline, the redacted transcript and the outcome, as lines of text for a terminal."""
    found = steps(report)
    width = max((len(step.stage.value) for step in found), default=5)
    lines = [f"SMTP test of {report.host} ({_describe_connection(report)})", ""]
    lines.append(f"       {'stage':<{width}}  {'time':>8}  reply")
    for step in found:
        mark = "FAIL" if step.failed else "ok"
        time = f"{step.duration_ms} ms"
        lines.append(f"  {mark:<4} {step.stage.value:<{width}}  {time:>8}  {step.summary}".rstrip())
    lines += ["", "transcript (secrets redacted):"]
    lines += [f"  {line}" for line in report.transcript] or ["  (empty)"]
    lines.append("")
    end = report.stage
    if end is Stage.DONE:
        lines.append(f"OK: the test email was accepted, in {report.elapsed_ms} ms")
    else:
        why = report.detail or (f"{report.reply_code} {report.reply_text}" if report.reply_code else "")
        outcome = f"FAILED at stage {end.value} after {report.elapsed_ms} ms"
        lines.append(f"{outcome}: {why}" if why else outcome)
    return "\n".join(lines)
