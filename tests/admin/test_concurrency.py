"""At most one active provider per instance, under concurrent activations from two processes (item 5);
under preconditions (If-Match, or mailgate.v1's body etag), exactly one of the writers that read the
same etag wins (decisions 6 and 7)."""

from __future__ import annotations

import asyncio
import random
import secrets
from collections import Counter
from collections.abc import Awaitable, Iterator
from pathlib import Path

import grpc
import pytest

from mailgate.gen.mailgate.v1 import providers_pb2, providers_pb2_grpc
from mailgate.gen.zitadel import admin_pb2 as pb
from mailgate.gen.zitadel import admin_pb2_grpc
from tests.fixtures.database import TEST_KEY
from tests.fixtures.processes import Served, clean_env, create_token
from tests.fixtures.rpc import ACTIVE, smtp_add, smtp_update

pytestmark = pytest.mark.asyncio(loop_scope="session")

CALLS = 50
PROVIDERS = 10
Metadata = tuple[tuple[str, str], ...]


@pytest.fixture
def served_postgres(pg_database_url: str, tmp_path: Path) -> Iterator[tuple[list[Served], dict[str, str]]]:
    env = clean_env(
        MAILGATE_DATABASE_URL=pg_database_url, MAILGATE_MASTER_KEY=TEST_KEY, MAILGATE_LOG_LEVEL="warning"
    )
    servers = [Served.launch(env, tmp_path / f"serve-{n}.log") for n in range(2)]
    try:
        for server in servers:
            server.wait_serving()
        yield servers, env
    finally:
        for server in servers:
            server.stop()


@pytest.fixture
def served_sqlite(tmp_path: Path) -> Iterator[tuple[list[Served], dict[str, str]]]:
    env = clean_env(MAILGATE_DATA_DIR=str(tmp_path / "data"), MAILGATE_LOG_LEVEL="warning")
    server = Served.start(env, tmp_path / "serve.log")
    try:
        yield [server], env
    finally:
        server.stop()


async def _race(servers: list[Served], env: dict[str, str]) -> None:
    instance = f"race-{secrets.token_hex(4)}"
    metadata = (("authorization", f"Bearer {create_token(env, 'iam.write', instance)}"),)
    channels = [grpc.aio.insecure_channel(server.target) for server in servers]
    try:
        stubs = [admin_pb2_grpc.AdminServiceStub(channel) for channel in channels]
        ids = []
        for n in range(PROVIDERS):
            added = await stubs[n % len(stubs)].AddEmailProviderSMTP(
                smtp_add(description=f"p{n}"), metadata=metadata
            )
            ids.append(added.id)
        plan = [(stubs[n % len(stubs)], ids[n % PROVIDERS]) for n in range(CALLS)]
        random.shuffle(plan)

        async def activate(stub: admin_pb2_grpc.AdminServiceStub, provider_id: str) -> tuple[str, str]:
            try:
                await stub.ActivateEmailProvider(
                    pb.ActivateEmailProviderRequest(id=provider_id), metadata=metadata
                )
            except grpc.aio.AioRpcError as error:
                return error.code().name, error.details() or ""
            return "OK", ""

        outcomes = await asyncio.gather(*(activate(stub, provider_id) for stub, provider_id in plan))

        codes = Counter(code for code, _ in outcomes)
        unexpected = [
            (code, message)
            for code, message in outcomes
            if not (
                code in ("OK", "ABORTED")
                or (code == "FAILED_PRECONDITION" and message.endswith("(COMMAND-vUHBSmBzaw)"))
            )
        ]
        assert unexpected == [], codes
        assert codes["OK"] >= 1
        for stub in stubs:  # every process sees the same single active provider
            listed = await stub.ListEmailProviders(pb.ListEmailProvidersRequest(), metadata=metadata)
            active = [p.id for p in listed.result if p.state == ACTIVE]
            assert len(active) == 1, codes
            current = await stub.GetEmailProvider(pb.GetEmailProviderRequest(), metadata=metadata)
            assert current.config.id == active[0]
    finally:
        for channel in channels:
            await channel.close()


async def test_concurrent_activations_from_two_processes_on_postgres(
    served_postgres: tuple[list[Served], dict[str, str]],
) -> None:
    servers, env = served_postgres
    await _race(servers, env)
    for server in servers:
        assert server.stop() == 0
        assert not [line for line in server.log_lines() if line.get("level") == "error"], server.log()


async def test_concurrent_activations_on_sqlite(served_sqlite: tuple[list[Served], dict[str, str]]) -> None:
    servers, env = served_sqlite
    await _race(servers, env)
    assert servers[0].stop() == 0
    assert not [line for line in servers[0].log_lines() if line.get("level") == "error"], servers[0].log()


# --- under preconditions (decisions 6 and 7): exactly one of the writers that read together wins ---


async def _etag(stub: admin_pb2_grpc.AdminServiceStub, provider_id: str, metadata: Metadata) -> str:
    call = stub.GetEmailProviderById(pb.GetEmailProviderByIdRequest(id=provider_id), metadata=metadata)
    await call
    return dict(await call.initial_metadata() or ())["etag"]


async def _outcome(call: Awaitable[object]) -> str:
    try:
        await call
    except grpc.aio.AioRpcError as error:
        return error.code().name
    return "OK"


async def _race_preconditions(servers: list[Served], env: dict[str, str]) -> None:
    instance = f"cas-{secrets.token_hex(4)}"
    metadata: Metadata = (("authorization", f"Bearer {create_token(env, 'iam.write', instance)}"),)
    channels = [grpc.aio.insecure_channel(server.target) for server in servers]
    try:
        stubs = [admin_pb2_grpc.AdminServiceStub(channel) for channel in channels]
        ids = [
            (await stubs[0].AddEmailProviderSMTP(smtp_add(description=f"p{n}"), metadata=metadata)).id
            for n in range(PROVIDERS)
        ]
        etags = [await _etag(stubs[0], provider_id, metadata) for provider_id in ids]

        # Every provider activated at once, each under the etag read before any activation.
        activations = await asyncio.gather(
            *(
                _outcome(
                    stubs[n % len(stubs)].ActivateEmailProvider(
                        pb.ActivateEmailProviderRequest(id=provider_id),
                        metadata=(*metadata, ("if-match", etag)),
                    )
                )
                for n, (provider_id, etag) in enumerate(zip(ids, etags, strict=True))
            )
        )
        assert Counter(activations) == {"OK": 1, "ABORTED": PROVIDERS - 1}, activations
        winner = ids[activations.index("OK")]

        # One provider updated by every writer at once, all under the same etag.
        target = ids[0]
        read = await _etag(stubs[0], target, metadata)
        updates = await asyncio.gather(
            *(
                _outcome(
                    stubs[n % len(stubs)].UpdateEmailProviderSMTP(
                        smtp_update(target, description=f"writer-{n}"),
                        metadata=(*metadata, ("if-match", read)),
                    )
                )
                for n in range(CALLS)
            )
        )
        assert Counter(updates) == {"OK": 1, "ABORTED": CALLS - 1}, updates
        for stub in stubs:
            current = await stub.GetEmailProvider(pb.GetEmailProviderRequest(), metadata=metadata)
            assert current.config.id == winner
            updated = await stub.GetEmailProviderById(
                pb.GetEmailProviderByIdRequest(id=target), metadata=metadata
            )
            assert updated.config.description == f"writer-{updates.index('OK')}"

        # The same race through mailgate.v1's body etag, every provider inactive first, one of them
        # activated twice under the same etag: one activation wins, on whichever process.
        await stubs[0].DeactivateEmailProvider(
            pb.DeactivateEmailProviderRequest(id=winner), metadata=metadata
        )
        services = [providers_pb2_grpc.ProviderServiceStub(channel) for channel in channels]
        listed = await services[-1].ListProviders(providers_pb2.ListProvidersRequest(), metadata=metadata)
        plan = [(p.provider.id, p.etag) for p in listed.result]
        plan.append(plan[0])
        bodies = await asyncio.gather(
            *(
                _outcome(
                    services[n % len(services)].ActivateProvider(
                        providers_pb2.ActivateProviderRequest(id=provider_id, etag=etag), metadata=metadata
                    )
                )
                for n, (provider_id, etag) in enumerate(plan)
            )
        )
        assert Counter(bodies) == {"OK": 1, "ABORTED": PROVIDERS}, bodies
        listed = await services[0].ListProviders(providers_pb2.ListProvidersRequest(), metadata=metadata)
        assert [p.provider.state for p in listed.result].count(ACTIVE) == 1
    finally:
        for channel in channels:
            await channel.close()


async def test_writers_under_one_etag_from_two_processes_on_postgres(
    served_postgres: tuple[list[Served], dict[str, str]],
) -> None:
    servers, env = served_postgres
    await _race_preconditions(servers, env)
    for server in servers:
        assert server.stop() == 0
        assert not [line for line in server.log_lines() if line.get("level") == "error"], server.log()


async def test_writers_under_one_etag_on_sqlite(served_sqlite: tuple[list[Served], dict[str, str]]) -> None:
    servers, env = served_sqlite
    await _race_preconditions(servers, env)
    assert servers[0].stop() == 0
