"""Attempts as `message_attempts` rows: an engine's result in, the status API's `Attempt` out.

The timeline (`steps`) is stored as JSON objects with TestStep's field names; everything in it was
redacted by the engine before it got here.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import RowMapping

from mailgate.delivery.report import Stage, TestStep
from mailgate.outbox.model import Attempt, ReplyClass
from mailgate.store.clock import to_datetime, to_us

_TEXT_LIMIT = 1000  # reply_text and detail columns


def attempt_row(
    instance_id: str,
    message_key: str,  # messages.id
    number: int,
    at_us: int,
    provider_id: str,
    reply_class: ReplyClass,
    *,
    stage: Stage,
    reply_code: int = 0,
    enhanced_status_code: str = "",
    reply_text: str = "",
    detail: str = "",
    duration_ms: int = 0,
    steps: tuple[TestStep, ...] = (),
) -> dict[str, Any]:
    """The row of one attempt, its texts cut to the columns' length."""
    return {
        "instance_id": instance_id,
        "message_id": message_key,
        "number": number,
        "at_us": at_us,
        "provider_id": provider_id,
        "reply_class": reply_class.value,
        "stage": stage.value,
        "reply_code": reply_code,
        "enhanced_status_code": enhanced_status_code[:16],
        "reply_text": reply_text[:_TEXT_LIMIT],
        "detail": detail[:_TEXT_LIMIT],
        "duration_ms": max(0, duration_ms),
        "steps": [_step_to_json(step) for step in steps],
    }


def recorded_row(instance_id: str, message_key: str, attempt: Attempt) -> dict[str, Any]:
    """The row of an attempt already read as an `Attempt` (what a test puts where a worker would)."""
    return attempt_row(
        instance_id,
        message_key,
        attempt.number,
        to_us(attempt.at),
        attempt.provider_id,
        attempt.reply_class,
        stage=attempt.stage,
        reply_code=attempt.reply_code,
        enhanced_status_code=attempt.enhanced_status_code,
        reply_text=attempt.reply_text,
        detail=attempt.detail,
        duration_ms=attempt.duration_ms,
        steps=attempt.steps,
    )


def row_to_attempt(row: RowMapping, prefix: str = "") -> Attempt:
    """The status API's view of a stored attempt (its columns named `prefix` + column)."""

    def get(name: str) -> Any:
        return row[prefix + name]

    return Attempt(
        number=get("number"),
        at=to_datetime(get("at_us")),
        provider_id=get("provider_id"),
        reply_class=ReplyClass(get("reply_class")),
        stage=Stage(get("stage")),
        reply_code=get("reply_code"),
        enhanced_status_code=get("enhanced_status_code"),
        reply_text=get("reply_text"),
        detail=get("detail"),
        duration_ms=get("duration_ms"),
        steps=tuple(_step_from_json(step) for step in get("steps") or ()),
    )


def _step_to_json(step: TestStep) -> dict[str, Any]:
    return {
        "stage": step.stage.value,
        "started_ms": step.started_ms,
        "duration_ms": step.duration_ms,
        "reply_code": step.reply_code,
        "enhanced_status_code": step.enhanced_status_code,
        "reply_text": step.reply_text,
    }


def _step_from_json(step: dict[str, Any]) -> TestStep:
    return TestStep(
        stage=Stage(step["stage"]),
        started_ms=int(step["started_ms"]),
        duration_ms=int(step["duration_ms"]),
        reply_code=int(step.get("reply_code", 0)),
        enhanced_status_code=str(step.get("enhanced_status_code", "")),
        reply_text=str(step.get("reply_text", "")),
    )
