"""A fault is INTERNAL with a correlation id and a logged traceback; only the deadline is DEADLINE_EXCEEDED.

A handler with a bug stands in for the domain: it joins a real server's method table as a
test-only RPC (ListEmailProviders' messages and stages) and is reached over grpc-web.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable

import grpc
import httpx
import pytest
from google.protobuf.message import Message
from google.rpc import error_details_pb2, status_pb2

from mailgate.app import Services
from mailgate.gen.zitadel import admin_pb2 as pb
from mailgate.pipeline.methods import Method
from mailgate.pipeline.runner import CallContext
from mailgate.pipeline.stages import Operation
from tests.fixtures.servers import RunningServer, running_server
from tests.transports.conftest import GRPC_PATH, WebReply, bearer, grpc_web

pytestmark = pytest.mark.parametrize("backend", ["sqlite"])

INTERNAL = grpc.StatusCode.INTERNAL.value[0]
DEADLINE_EXCEEDED = grpc.StatusCode.DEADLINE_EXCEEDED.value[0]


Handler = Callable[[Message, CallContext], Awaitable[object]]


async def _pool_timeout(_request: Message, _context: CallContext) -> Message:
    # What a stalled database connection raises (asyncpg's connect timeout): not the caller's deadline.
    raise TimeoutError("timed out connecting to the database")


async def _stalls(_request: Message, _context: CallContext) -> Message:
    await asyncio.Event().wait()
    raise AssertionError("unreachable")


async def _not_a_message(_request: Message, _context: CallContext) -> object:
    return "a handler bug: a str where a response message belongs"


def _test_only(services: Services, name: str, handler: Handler) -> Method:
    """`handler` as the RPC `name`, bound as ListEmailProviders is (its messages, stages, encoder)."""
    model = services.table[GRPC_PATH + "ListEmailProviders"]
    return dataclasses.replace(
        model,
        path=GRPC_PATH + name,
        operation=Operation(name, model.operation.permission),
        handler=handler,  # type: ignore[arg-type]  # some return what no RPC may: the bug under test
    )


def _faulty(services: Services) -> list[Method]:
    return [
        _test_only(services, "TestOnlyPoolTimeout", _pool_timeout),
        _test_only(services, "TestOnlyStalls", _stalls),
        _test_only(services, "TestOnlyNotAMessage", _not_a_message),
    ]


@pytest.fixture
async def server(settings_env: dict[str, str]) -> AsyncIterator[RunningServer]:
    async with running_server(settings_env, methods=_faulty) as running:
        yield running


def assert_logged_internal(reply: WebReply, caplog: pytest.LogCaptureFixture, method: str) -> None:
    """INTERNAL with only a correlation id (message and RequestInfo); the log has it with a traceback."""
    assert (reply.http_status, reply.code) == (200, INTERNAL), reply.trailers
    found = re.fullmatch(r"internal error \(correlation id ([0-9a-f]{16})\)", reply.trailers["grpc-message"])
    assert found, reply.trailers
    correlation = found.group(1)
    status: status_pb2.Status = reply.status()
    info = error_details_pb2.RequestInfo()
    assert len(status.details) == 1 and status.details[0].Unpack(info)
    assert info.request_id == correlation
    logged = [r for r in caplog.records if getattr(r, "correlation_id", None) == correlation]
    assert len(logged) == 1, caplog.text
    assert logged[0].levelno == logging.ERROR and logged[0].exc_info is not None
    assert getattr(logged[0], "method", None) == method


@pytest.mark.parametrize("grpc_timeout", [None, "60S"], ids=["no-deadline", "deadline-not-reached"])
async def test_a_timeout_that_is_not_the_call_s_deadline_is_an_internal_fault(
    server: RunningServer, http: httpx.AsyncClient, caplog: pytest.LogCaptureFixture, grpc_timeout: str | None
) -> None:
    method = "TestOnlyPoolTimeout"
    headers = await bearer(server, "iam.read")
    if grpc_timeout is not None:
        headers["grpc-timeout"] = grpc_timeout

    with caplog.at_level(logging.INFO, logger="mailgate"):
        reply = await grpc_web(http, method, pb.ListEmailProvidersRequest(), headers)

    assert_logged_internal(reply, caplog, method)
    assert "timed out connecting" not in reply.trailers["grpc-message"]


async def test_the_call_s_own_deadline_is_deadline_exceeded(
    server: RunningServer, http: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    method = "TestOnlyStalls"
    headers = {**await bearer(server, "iam.read"), "grpc-timeout": "100m"}

    with caplog.at_level(logging.INFO, logger="mailgate"):
        reply = await grpc_web(http, method, pb.ListEmailProvidersRequest(), headers)

    assert (reply.http_status, reply.code) == (200, DEADLINE_EXCEEDED), reply.trailers
    assert reply.trailers["grpc-message"] == "the call's deadline passed before it finished"
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.mark.parametrize("text", [False, True], ids=["binary", "text"])
async def test_a_fault_outside_the_pipeline_is_logged_with_a_correlation_id(
    server: RunningServer, http: httpx.AsyncClient, caplog: pytest.LogCaptureFixture, text: bool
) -> None:
    # The pipeline succeeds; encoding the "response" fails in grpc-web's own code.
    method = "TestOnlyNotAMessage"

    with caplog.at_level(logging.INFO, logger="mailgate"):
        reply = await grpc_web(
            http, method, pb.ListEmailProvidersRequest(), await bearer(server, "iam.read"), text
        )

    assert_logged_internal(reply, caplog, method)
    assert "AttributeError" not in reply.trailers["grpc-message"]
