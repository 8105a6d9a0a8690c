"""The child's ends of its pipes as asyncio streams: stdin to read the parent's lines, stdout to
write its own."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator

from mailgate.delivery_process.link import Line, LinkError, read_lines, write_line


class ParentPipes:
    """Lines from the parent (stdin) and to it (stdout)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer

    @classmethod
    async def open(cls) -> ParentPipes:
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader()
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin.buffer)
        transport, protocol = await loop.connect_write_pipe(
            asyncio.streams.FlowControlMixin, sys.stdout.buffer
        )
        return cls(reader, asyncio.StreamWriter(transport, protocol, None, loop))

    def lines(self) -> AsyncIterator[Line | LinkError]:
        """Each line the parent writes, until it closes the pipe (or dies)."""
        return read_lines(self._reader)

    def send(self, line: Line) -> None:
        """Queue `line` for the parent; nothing if the pipe is gone (the parent died) or the parent
        is not reading (its watchers look again on their own)."""
        write_line(self._writer, line)
