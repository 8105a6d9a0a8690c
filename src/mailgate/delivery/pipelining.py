"""RFC 2920 pipelining over an aiosmtplib connection: several commands in one write, their replies
read in order.

aiosmtplib reads one reply per command it wrote: a second reply arriving with the first stays in its
buffer unparsed, and one arriving before the next read is dropped. So while a group is answered, a
reader of ours stands in for aiosmtplib's protocol on the transport (asyncio's `set_protocol`), and
hands the transport back with every reply read, or closed: never out of step.
"""

from __future__ import annotations

import asyncio
import re
from collections import deque
from types import TracebackType

import aiosmtplib

# aiosmtplib's limits (aiosmtplib.protocol), so a reply too long for it is too long here too.
MAX_LINE = 8192
MAX_REPLIES = MAX_LINE * 4
_CONTROL = re.compile(rb"[\x00-\x1f\x7f]")  # no command line may carry one (CR and LF above all)
_LINE_ENDS = re.compile(rb"\r\n|\n|\r(?!\n)")
_LEADING_DOT = re.compile(rb"(?m)^\.")


def _unreadable(text: str) -> aiosmtplib.SMTPResponseException:
    # Code -1, as aiosmtplib reports what is not SMTP: the conversation calls it unreadable.
    return aiosmtplib.SMTPResponseException(-1, text)


def parse_reply(buffer: bytearray) -> aiosmtplib.SMTPResponse | None:
    """Take the first complete reply (all its lines) off `buffer`; None while it is incomplete."""
    offset = 0
    lines: list[bytes] = []
    while (end := buffer.find(b"\n", offset)) != -1:
        line = bytes(buffer[offset : end + 1])
        if len(line) > MAX_LINE:
            raise _unreadable("Response too long")
        try:
            code = int(line[:3])
        except ValueError:
            raise _unreadable(f"Malformed SMTP response line: {line.decode('utf-8', 'ignore')}") from None
        offset = end + 1
        lines.append(line[4:].strip(b" \t\r\n"))
        if line[3:4] != b"-":
            del buffer[:offset]
            return aiosmtplib.SMTPResponse(code, b"\n".join(lines).decode("utf-8", "surrogateescape"))
    return None


def message_text(message: bytes) -> bytes:
    """The message as DATA carries it: CRLF line ends, leading dots doubled, the final "."."""
    text = _LINE_ENDS.sub(b"\r\n", message)
    if not text.endswith(b"\r\n"):
        text += b"\r\n"
    return _LEADING_DOT.sub(b"..", text) + b".\r\n"


class _Reader(asyncio.Protocol):
    """Every reply the server sends while it stands in, parsed in order; the connection's end and
    flow control are passed on to aiosmtplib's protocol."""

    def __init__(self, inner: asyncio.Protocol) -> None:
        self.inner = inner
        self.buffer = bytearray()
        self.replies: deque[aiosmtplib.SMTPResponse] = deque()
        self.failure: Exception | None = None  # what ends the reading once the replies are taken
        self.changed = asyncio.Event()

    def data_received(self, data: bytes) -> None:
        if self.failure is not None:
            return
        self.buffer.extend(data)
        try:
            while (reply := parse_reply(self.buffer)) is not None:
                self.replies.append(reply)
            if len(self.buffer) > MAX_REPLIES:
                raise _unreadable("Response too long")
        except aiosmtplib.SMTPResponseException as exc:
            self.failure = exc
        self.changed.set()

    def eof_received(self) -> bool:
        self.end(aiosmtplib.SMTPServerDisconnected("Unexpected EOF received"))
        return False  # the transport closes

    def connection_lost(self, exc: Exception | None) -> None:
        lost = aiosmtplib.SMTPServerDisconnected("Connection lost")
        lost.__cause__ = exc
        self.end(lost)
        self.inner.connection_lost(exc)

    def pause_writing(self) -> None:
        self.inner.pause_writing()

    def resume_writing(self) -> None:
        self.inner.resume_writing()

    def end(self, failure: Exception) -> None:
        if self.failure is None:
            self.failure = failure
        self.changed.set()

    async def reply(self) -> aiosmtplib.SMTPResponse:
        while not self.replies:
            if self.failure is not None:
                raise self.failure
            self.changed.clear()
            await self.changed.wait()
        return self.replies.popleft()


class Pipeline:
    """A group of commands on `smtp`'s connection and their replies, in order (use with `with`).

    Each reply is awaited at most `timeout` seconds. Leaving with replies unread (a failure, the
    deadline) closes the connection: aiosmtplib would pair them with its next commands.
    """

    def __init__(self, smtp: aiosmtplib.SMTP, timeout: float) -> None:
        protocol = smtp.protocol
        transport = protocol.transport if protocol is not None else None
        if protocol is None or not isinstance(transport, asyncio.Transport) or transport.is_closing():
            raise aiosmtplib.SMTPServerDisconnected("Connection lost")
        self._inner = protocol
        self._transport = transport
        self._reader = _Reader(protocol)
        self._timeout = timeout
        self._unanswered = 0  # commands written whose reply was not read yet

    def __enter__(self) -> Pipeline:
        self._transport.set_protocol(self._reader)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._transport.set_protocol(self._inner)
        if self._unanswered or self._reader.replies or self._reader.buffer:
            self._transport.abort()

    def send(self, *lines: bytes) -> None:
        """Write command lines in one write; a line with a control character is refused first."""
        for line in lines:
            if _CONTROL.search(line):
                raise ValueError("Command arg contains a prohibited control character")
        self._write(b"".join(line + b"\r\n" for line in lines), len(lines))

    def send_message(self, message: bytes) -> None:
        """Write the message after a 354 (see `message_text`); one reply follows."""
        self._write(message_text(message), 1)

    def _write(self, data: bytes, replies: int) -> None:
        if self._transport.is_closing():
            raise aiosmtplib.SMTPServerDisconnected("Connection lost")
        self._transport.write(data)
        self._unanswered += replies

    async def reply(self) -> aiosmtplib.SMTPResponse:
        """The next reply, within the timeout (aiosmtplib's read timeout error after it)."""
        try:
            async with asyncio.timeout(self._timeout):
                response = await self._reader.reply()
        except TimeoutError:
            raise aiosmtplib.SMTPReadTimeoutError("Timed out waiting for server response") from None
        self._unanswered -= 1
        return response

    def abort(self) -> None:
        """Close the connection at once (the server waits for a message nobody may send)."""
        self._transport.abort()
