"""What the serve process and its delivery child say to each other: one JSON object per line.

The parent writes to the child's stdin, the child to its stdout (its logs go to stderr, as the
parent's do). A change line carries what a committed transaction changed on SQLite, where there is
no NOTIFY (None: anything may have changed); metrics lines carry the child's Prometheus text.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass

# Bytes written and not yet read by the other side beyond which further lines are dropped: a
# process that stopped reading must not grow the writer's memory (the work is found by polling).
BACKLOG = 1 << 20


@dataclass(frozen=True)
class Changed:
    """A committed change the other process must hear of (`changes.OUTBOX`, `PROVIDERS`, ...)."""

    what: str | None


@dataclass(frozen=True)
class MetricsWanted:
    """The parent's scrape: answer `MetricsText` with the same `request`."""

    request: int


@dataclass(frozen=True)
class MetricsText:
    """The child's registry in the text exposition format."""

    request: int
    text: str


Line = Changed | MetricsWanted | MetricsText


class LinkError(ValueError):
    """A line that is not one of ours."""


def encode(line: Line) -> bytes:
    """The line as written, newline included."""
    match line:
        case Changed(what):
            fields: dict[str, object] = {"changed": what}
        case MetricsWanted(request):
            fields = {"metrics_wanted": request}
        case MetricsText(request, text):
            fields = {"metrics": request, "text": text}
    return json.dumps(fields, separators=(",", ":")).encode() + b"\n"


def decode(raw: bytes) -> Line:
    """A line as read; LinkError if it is none of ours."""
    try:
        fields = json.loads(raw)
    except ValueError as exc:
        raise LinkError(f"not JSON: {exc}") from None
    match fields:
        case {"changed": str() | None as what}:
            return Changed(what)
        case {"metrics_wanted": int() as request}:
            return MetricsWanted(request)
        case {"metrics": int() as request, "text": str() as text}:
            return MetricsText(request, text)
    raise LinkError("an unknown line")


async def read_lines(reader: asyncio.StreamReader) -> AsyncIterator[Line | LinkError]:
    """Each line the other process writes (or why it is none of ours), until it closes its end."""
    while raw := await reader.readline():
        try:
            yield decode(raw)
        except LinkError as exc:
            yield exc


def write_line(writer: asyncio.StreamWriter, line: Line) -> bool:
    """Queue `line` for the other process; False, writing nothing, if its end is gone or it has
    left BACKLOG bytes unread."""
    if writer.is_closing() or writer.transport.get_write_buffer_size() > BACKLOG:
        return False
    writer.write(encode(line))
    return True
