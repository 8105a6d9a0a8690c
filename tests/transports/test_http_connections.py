"""The HTTP port bounds its connections: idle and header-read timeouts, a head size limit, a cap.

Real sockets against a real server with small limits; every wait is for the socket to close (with
a generous safety bound), never a fixed sleep. The last tests pin what HttpServer and
LimitedHttpProtocol rely on in uvicorn, so an upgrade that changes it fails here first.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
from collections.abc import AsyncIterator
from typing import Any

import pytest
import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from mailgate.transports.http_connections import MAX_HEAD_BYTES, LimitedHttpProtocol
from tests.fixtures.servers import RunningServer, running_server, start_server


@pytest.fixture
def backend() -> str:
    return "sqlite"  # connection handling does not depend on the store


# Far longer than any limit below: reaching it means the server kept the connection open.
SAFETY = 15.0
HEALTHZ = b"GET /healthz HTTP/1.1\r\nHost: mailgate\r\n\r\n"


@pytest.fixture
async def limited(settings_env: dict[str, str]) -> AsyncIterator[RunningServer]:
    """A server whose HTTP limits are small; the idle timeout stays out of the way unless a test sets it."""
    async with running_server(
        settings_env, http_idle_timeout=30, http_header_timeout=0.5, http_max_connections=3
    ) as running:
        yield running


async def connect(server: RunningServer) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection("127.0.0.1", server.app.http.port)


async def read_until_closed(reader: asyncio.StreamReader) -> bytes:
    """Everything the server sends until it closes the connection (a reset counts as closed)."""
    received = b""
    with contextlib.suppress(ConnectionResetError):
        while chunk := await asyncio.wait_for(reader.read(65536), SAFETY):
            received += chunk
    return received


async def read_response(reader: asyncio.StreamReader) -> bytes:
    """One response with a Content-Length body."""
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), SAFETY)
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    return head + await asyncio.wait_for(reader.readexactly(length), SAFETY)


async def test_a_connection_that_never_sends_a_request_is_closed_after_the_idle_timeout(
    settings_env: dict[str, str],
) -> None:
    running = await start_server(settings_env, http_idle_timeout=1)
    try:
        reader, writer = await connect(running)
        assert await read_until_closed(reader) == b""
        writer.close()
    finally:
        await running.close()


async def test_an_idle_connection_between_requests_is_closed_after_the_idle_timeout(
    settings_env: dict[str, str],
) -> None:
    # This half is uvicorn's own keep-alive timer, configured from the same setting.
    running = await start_server(settings_env, http_idle_timeout=1)
    try:
        reader, writer = await connect(running)
        writer.write(HEALTHZ)
        assert (await read_response(reader)).startswith(b"HTTP/1.1 200 ")
        assert await read_until_closed(reader) == b""
        writer.close()
    finally:
        await running.close()


async def drip_head(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bytes:
    """Send a request head one byte at a time until the server closes; what it answered."""

    async def drip() -> None:
        # Far faster than the idle timeout: only a head deadline stops it.
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: mailgate\r\nX-Slow: ")
        while not writer.is_closing():
            writer.write(b"a")
            await asyncio.sleep(0.02)

    dripping = asyncio.create_task(drip())
    try:
        return await read_until_closed(reader)
    finally:
        dripping.cancel()
        writer.close()


async def test_a_slowloris_head_is_answered_408_and_closed_after_the_header_timeout(
    limited: RunningServer,
) -> None:
    received = await drip_head(*await connect(limited))
    assert received.startswith(b"HTTP/1.1 408 "), received


async def test_a_slow_head_after_a_quick_request_on_the_same_connection_is_answered_408(
    limited: RunningServer,
) -> None:
    # The header timer the first request armed fires while the second head is still incomplete: it
    # must give that head its own deadline, neither refuse it early nor forget it.
    reader, writer = await connect(limited)
    writer.write(HEALTHZ)
    first = await read_response(reader)
    received = await drip_head(reader, writer)
    assert first.startswith(b"HTTP/1.1 200 "), first
    assert received.startswith(b"HTTP/1.1 408 "), received


async def test_a_head_over_the_size_limit_is_answered_431_and_closed(limited: RunningServer) -> None:
    reader, writer = await connect(limited)
    padding = b"".join(b"X-Pad-%d: %s\r\n" % (i, b"a" * 1000) for i in range(MAX_HEAD_BYTES // 1000 + 2))
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: mailgate\r\n" + padding)  # the head never ends
    received = await read_until_closed(reader)
    writer.close()
    assert received.startswith(b"HTTP/1.1 431 "), received


async def test_a_connection_over_the_cap_is_answered_503_and_closed(limited: RunningServer) -> None:
    held = [await connect(limited) for _ in range(3)]
    for reader, writer in held:  # every connection in the cap is served
        writer.write(HEALTHZ)
        assert (await read_response(reader)).startswith(b"HTTP/1.1 200 ")

    reader, writer = await connect(limited)
    refused = await read_until_closed(reader)
    writer.close()
    assert refused.startswith(b"HTTP/1.1 503 "), refused

    # Closing one makes room again.
    held[0][1].close()
    opened = limited.app.http.limits.open
    await asyncio.wait_for(_until(lambda: len(opened) < 3), SAFETY)
    reader, writer = await connect(limited)
    writer.write(HEALTHZ)
    assert (await read_response(reader)).startswith(b"HTTP/1.1 200 ")
    for _, other in [*held[1:], (reader, writer)]:
        other.close()


async def _until(condition: Any) -> None:
    while not condition():
        await asyncio.sleep(0.01)


# --- what HttpServer and LimitedHttpProtocol rely on in uvicorn (see their docstrings) ---


def test_uvicorn_still_drives_a_server_the_way_http_server_does() -> None:
    assert "sockets" in inspect.signature(uvicorn.Server.startup).parameters
    for name in ("main_loop", "shutdown"):
        assert inspect.iscoroutinefunction(getattr(uvicorn.Server, name)), name
    # serve() sets server.lifespan from the loaded config before startup(); HttpServer does the same.
    config = uvicorn.Config(lambda: None, lifespan="off", log_config=None)
    config.load()
    assert "self.lifespan" in inspect.getsource(uvicorn.Server.startup)
    assert callable(config.lifespan_class)


def test_uvicorn_still_builds_the_protocol_class_it_is_given() -> None:
    config = uvicorn.Config(lambda: None, http=LimitedHttpProtocol, lifespan="off", log_config=None)
    config.load()
    assert config.http_protocol_class is LimitedHttpProtocol
    assert list(inspect.signature(HttpToolsProtocol.__init__).parameters)[1:4] == [
        "config",
        "server_state",
        "app_state",
    ]


def test_uvicorn_httptools_protocol_still_has_the_callbacks_we_extend() -> None:
    for name in (
        "connection_made",
        "connection_lost",
        "data_received",
        "on_message_begin",
        "on_headers_complete",
    ):
        assert name in vars(HttpToolsProtocol), name
    # Its keep-alive timer (our idle timeout after a response) is still driven by this setting.
    assert "timeout_keep_alive" in inspect.signature(uvicorn.Config).parameters
