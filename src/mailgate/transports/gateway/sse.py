"""Server-Sent Events for a server-streaming method on the JSON port: one `data:` line of message
JSON per response, until the stream ends or the client goes away.

Resuming follows one convention of mailgate's streams: a response with an `event.sequence` carries
it as the SSE `id:`, and a request with an `after_sequence` takes a `Last-Event-ID` header (what an
EventSource sends when it reconnects) when that is further on than the query's own.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterable

from google.protobuf.message import Message
from starlette.types import Receive, Send

from mailgate.transports.gateway.marshal import message_json

CONTENT_TYPE = b"text/event-stream"
RESUME_FIELD = "after_sequence"


def resume(request: Message, headers: Iterable[tuple[bytes, bytes]]) -> None:
    """Apply a numeric Last-Event-ID to the request's `after_sequence` (ignored when unreadable)."""
    if RESUME_FIELD not in request.DESCRIPTOR.fields_by_name:
        return
    for name, value in headers:
        if name == b"last-event-id" and value.isdigit() and len(value) <= 19:
            setattr(request, RESUME_FIELD, max(int(value), getattr(request, RESUME_FIELD)))


def _cursor(message: Message) -> str:
    fields = message.DESCRIPTOR.fields_by_name
    if "event" in fields and message.HasField("event"):
        inner: Message = getattr(message, "event")  # noqa: B009 (a field the type does not declare)
        if "sequence" in inner.DESCRIPTOR.fields_by_name:
            return str(getattr(inner, "sequence"))  # noqa: B009
    return ""


def frame(message: Message) -> bytes:
    """One event: its id (when it has a cursor) and the message as one line of JSON."""
    cursor = _cursor(message)
    head = f"id: {cursor}\n".encode() if cursor else b""
    return head + b"data: " + message_json(message) + b"\n\n"


async def stream(send: Send, receive: Receive, responses: AsyncIterator[Message]) -> None:
    """Send `responses` as events; a client that disconnects ends (and closes) the stream at once."""
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-type", CONTENT_TYPE),
                (b"cache-control", b"no-store"),
                (b"x-accel-buffering", b"no"),  # proxies must pass each event on at once
            ],
        }
    )
    await send({"type": "http.response.body", "body": b": stream open\n\n", "more_body": True})

    async def pump() -> None:
        async for message in responses:
            await send({"type": "http.response.body", "body": frame(message), "more_body": True})

    async def gone() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass

    sending = asyncio.ensure_future(pump())
    watching = asyncio.ensure_future(gone())
    try:
        await asyncio.wait({sending, watching}, return_when=asyncio.FIRST_COMPLETED)
        client_gone = watching.done()
    finally:
        for task in (sending, watching):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        aclose = getattr(responses, "aclose", None)
        if aclose is not None:
            with contextlib.suppress(Exception):
                await aclose()
    if not client_gone:  # the stream ended (the server is stopping): end the response
        await send({"type": "http.response.body", "body": b"", "more_body": False})
