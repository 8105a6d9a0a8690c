"""Native gRPC bounds its connections: idle and age limits (GOAWAY), a handshake timeout for peers
that never speak HTTP/2, a concurrent-stream cap and a connection cap.

A raw HTTP/2 peer over a real socket reads the frames the server sends, so each test sees the
server's own signal (SETTINGS, GOAWAY, RST_STREAM, the socket closing); a real grpc.aio channel
shows that clients reconnect. Every wait is for a frame or a close, bounded by a safety timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tests.fixtures.servers import RunningServer, start_server

SAFETY = 15.0
PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
SETTINGS, HEADERS, RST_STREAM, GOAWAY = 0x4, 0x1, 0x3, 0x7
END_HEADERS, ACK = 0x4, 0x1
SETTINGS_MAX_CONCURRENT_STREAMS = 0x3
REFUSED_STREAM = 0x7
# Limits far beyond any test, so that only the one a test lowers can act.
LOOSE: dict[str, Any] = {
    "grpc_idle_timeout": 600.0,
    "grpc_max_connection_age": 600.0,
    "grpc_max_connection_age_grace": 600.0,
    "grpc_handshake_timeout": 600.0,
}


@pytest.fixture
def backend() -> str:
    return "sqlite"  # connection handling does not depend on the store


@dataclass
class Frame:
    kind: int
    flags: int
    stream: int
    payload: bytes


def frame(kind: int, flags: int = 0, stream: int = 0, payload: bytes = b"") -> bytes:
    return struct.pack(">I", len(payload))[1:] + bytes([kind, flags]) + struct.pack(">I", stream) + payload


class Peer:
    """A raw HTTP/2 client connection: write frames, read the server's frames until a condition."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.frames: list[Frame] = []
        self.closed = False

    @classmethod
    async def connect(cls, server: RunningServer, speak: bool = True) -> Peer:
        peer = cls(*await asyncio.open_connection("127.0.0.1", server.app.grpc.port))
        if speak:
            peer.writer.write(PREFACE + frame(SETTINGS))
        return peer

    async def until(self, condition: Callable[[Peer], bool]) -> Peer:
        """Read frames until `condition` holds or the server closes the connection."""
        while not condition(self) and not self.closed:
            try:
                head = await asyncio.wait_for(self.reader.readexactly(9), SAFETY)
                length = int.from_bytes(head[:3], "big")
                payload = await asyncio.wait_for(self.reader.readexactly(length), SAFETY)
            except (asyncio.IncompleteReadError, ConnectionResetError):
                self.closed = True
                break
            stream = int.from_bytes(head[5:9], "big") & 0x7FFFFFFF
            self.frames.append(Frame(head[3], head[4], stream, payload))
        return self

    def of(self, kind: int) -> list[Frame]:
        return [f for f in self.frames if f.kind == kind]

    def goaway_reasons(self) -> bytes:
        """The debug data of every GOAWAY received (grpc core says there why it ends the connection)."""
        return b" | ".join(goaway.payload[8:] for goaway in self.of(GOAWAY))

    def close(self) -> None:
        self.writer.close()


def has(kind: int) -> Callable[[Peer], bool]:
    return lambda peer: bool(peer.of(kind))


async def serving(settings_env: dict[str, str], **limits: Any) -> RunningServer:
    return await start_server(settings_env, **{**LOOSE, **limits})


async def test_an_idle_connection_gets_goaway_and_the_channel_reconnects(
    settings_env: dict[str, str],
) -> None:
    running = await serving(settings_env, grpc_idle_timeout=0.5)
    try:
        peer = await (await Peer.connect(running)).until(has(GOAWAY))
        assert peer.of(GOAWAY), "no GOAWAY on an idle connection"
        assert b"idle" in peer.goaway_reasons()
        peer.close()

        # A real client: its channel leaves READY when the server ends the idle connection, and
        # the next call connects again.
        async with grpc.aio.insecure_channel(running.grpc_target) as channel:
            health = health_pb2_grpc.HealthStub(channel)
            await health.Check(health_pb2.HealthCheckRequest(), timeout=SAFETY)
            assert channel.get_state() == grpc.ChannelConnectivity.READY
            await asyncio.wait_for(channel.wait_for_state_change(grpc.ChannelConnectivity.READY), SAFETY)
            answer = await health.Check(health_pb2.HealthCheckRequest(), timeout=SAFETY)
            assert answer.status == health_pb2.HealthCheckResponse.SERVING
    finally:
        await running.close()


async def test_a_connection_past_its_maximum_age_gets_goaway_then_is_closed(
    settings_env: dict[str, str],
) -> None:
    running = await serving(settings_env, grpc_max_connection_age=0.5, grpc_max_connection_age_grace=0.5)
    try:
        peer = await (await Peer.connect(running)).until(lambda p: p.closed)
        assert peer.of(GOAWAY), "no GOAWAY past the maximum age"
        assert b"age" in peer.goaway_reasons()
        assert peer.closed
    finally:
        await running.close()


async def test_a_peer_that_never_speaks_http2_is_closed_after_the_handshake_timeout(
    settings_env: dict[str, str],
) -> None:
    running = await serving(settings_env, grpc_handshake_timeout=0.5)
    try:
        peer = await (await Peer.connect(running, speak=False)).until(lambda p: p.closed)
        assert peer.closed
        assert b"handshake timeout" in peer.goaway_reasons()
    finally:
        await running.close()


def _literal(name: str, value: str) -> bytes:
    # HPACK literal header field without indexing, new name, no Huffman coding (RFC 7541 6.2.2).
    return b"\x00" + bytes([len(name)]) + name.encode() + bytes([len(value)]) + value.encode()


HEALTH_CHECK_HEADERS = b"".join(
    _literal(name, value)
    for name, value in [
        (":method", "POST"),
        (":scheme", "http"),
        (":path", "/grpc.health.v1.Health/Check"),
        (":authority", "mailgate"),
        ("content-type", "application/grpc"),
        ("te", "trailers"),
    ]
)


async def test_the_stream_cap_is_advertised_and_enforced(settings_env: dict[str, str]) -> None:
    running = await serving(settings_env, grpc_max_streams=3)
    try:
        peer = await (await Peer.connect(running)).until(has(SETTINGS))
        settings = peer.of(SETTINGS)[0].payload
        advertised = dict(struct.unpack(">HI", settings[i : i + 6]) for i in range(0, len(settings), 6))
        assert advertised[SETTINGS_MAX_CONCURRENT_STREAMS] == 3

        # Four calls opened at once, none finished: the fourth stream is refused.
        peer.writer.write(frame(SETTINGS, ACK))
        for stream in (1, 3, 5, 7):
            peer.writer.write(frame(HEADERS, END_HEADERS, stream, HEALTH_CHECK_HEADERS))
        await peer.until(has(RST_STREAM))
        (refused,) = peer.of(RST_STREAM)
        assert (refused.stream, int.from_bytes(refused.payload, "big")) == (7, REFUSED_STREAM)
        peer.close()
    finally:
        await running.close()


async def test_connections_over_the_cap_are_closed(settings_env: dict[str, str]) -> None:
    running = await serving(settings_env, grpc_max_connections=2)
    held: list[Peer] = []
    try:
        for _ in range(2):
            held.append(await (await Peer.connect(running)).until(has(SETTINGS)))
        assert all(peer.of(SETTINGS) for peer in held)

        extra = await (await Peer.connect(running)).until(has(SETTINGS))
        assert extra.closed and not extra.frames
        extra.close()
    finally:
        for peer in held:
            with contextlib.suppress(Exception):
                peer.close()
        await running.close()
