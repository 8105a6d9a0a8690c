"""The `mailgate` command as an operator uses it: tokens, startup checks, serving, shutdown."""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import socket
import stat
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from importlib import metadata
from pathlib import Path

import asyncpg
import grpc
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from sqlalchemy.engine import make_url

from mailgate.gen.zitadel import admin_pb2 as pb
from mailgate.gen.zitadel import admin_pb2_grpc
from mailgate.pipeline.auth import INVALID_TOKEN_TEXT
from tests.fixtures.database import TEST_KEY
from tests.fixtures.network import free_port
from tests.fixtures.processes import Served, clean_env, create_token, mailgate_command, run_cli
from tests.fixtures.rpc import smtp_add
from tests.fixtures.servers import start_server

ADMIN_SERVICE = "zitadel.admin.v1.AdminService"


def _bearer(token: str) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {token}"),)


def _list(target: str, token: str) -> grpc.StatusCode:
    with grpc.insecure_channel(target) as channel:
        try:
            admin_pb2_grpc.AdminServiceStub(channel).ListEmailProviders(
                pb.ListEmailProvidersRequest(), metadata=_bearer(token), timeout=10
            )
        except grpc.RpcError as error:
            return error.code()
    return grpc.StatusCode.OK


# --- tokens without a server ---


def test_token_create_list_and_revoke(tmp_path: Path) -> None:
    env = clean_env(MAILGATE_DATA_DIR=str(tmp_path / "data"))

    created = run_cli(
        ["token", "create", "--permission", "iam.read", "--instance", "acme", "--description", "ci"], env
    )
    assert created.returncode == 0, created.stderr
    reader = created.stdout.strip().splitlines()[-1]
    assert " " not in reader and len(reader) >= 32
    writer = create_token(env)  # default instance "default"
    listed = run_cli(["token", "list"], env)

    assert listed.returncode == 0, listed.stderr
    assert reader not in listed.stdout and writer not in listed.stdout
    rows = [line.split() for line in listed.stdout.splitlines()[1:]]
    assert [(row[1], row[2], row[-1]) for row in rows] == [
        ("acme", "iam.read", "-"),
        ("default", "iam.write", "-"),
    ]
    # Only hashes are stored.
    stored = b"".join(p.read_bytes() for p in (tmp_path / "data").iterdir())
    assert reader.encode() not in stored and writer.encode() not in stored

    reader_id = rows[0][0]
    revoked = run_cli(["token", "revoke", reader_id], env)
    again = run_cli(["token", "revoke", reader_id], env)
    after = run_cli(["token", "list"], env)

    assert revoked.returncode == 0 and reader_id in revoked.stdout
    assert again.returncode != 0 and reader_id in again.stderr
    rows_after = {line.split()[0]: line.split()[-1] for line in after.stdout.splitlines()[1:]}
    assert rows_after[reader_id] != "-" and rows_after[rows[1][0]] == "-"


def test_token_create_refuses_unknown_permissions(tmp_path: Path) -> None:
    done = run_cli(
        ["token", "create", "--permission", "iam.admin"], clean_env(MAILGATE_DATA_DIR=str(tmp_path))
    )

    assert done.returncode != 0
    assert "iam.read" in done.stderr and "iam.write" in done.stderr
    assert not (tmp_path / "mailgate.db").exists()


def test_migrate(tmp_path: Path) -> None:
    done = run_cli(["migrate"], clean_env(MAILGATE_DATA_DIR=str(tmp_path / "data")))

    assert done.returncode == 0, done.stderr
    assert (tmp_path / "data" / "mailgate.db").exists()


NEW_DATABASE = "warning: created a new, empty database"


def test_every_command_names_its_database_and_warns_when_it_creates_one(tmp_path: Path) -> None:
    # The default data directory counts from the working directory: a newcomer in another one
    # gets another database, and must be told so.
    database = tmp_path / "mailgate-data" / "mailgate.db"
    expected = f"mailgate: database {database}\n"

    first = run_cli(["token", "create", "--permission", "iam.write"], clean_env(), cwd=tmp_path)
    runs = [
        run_cli(args, clean_env(), cwd=tmp_path)
        for args in (["token", "create", "--permission", "iam.read"], ["token", "list"], ["migrate"])
    ]
    revoke = run_cli(["token", "revoke", "nonexistent"], clean_env(), cwd=tmp_path)

    assert first.returncode == 0, first.stderr
    assert first.stderr.startswith(expected)
    assert NEW_DATABASE in first.stderr and "--data-dir" in first.stderr
    assert len(first.stdout.splitlines()[-1]) >= 32  # stdout still ends with the token alone
    for done in [*runs, revoke]:
        assert done.stderr.startswith(expected), done.stderr
        assert NEW_DATABASE not in done.stderr
    assert all(done.returncode == 0 for done in runs) and revoke.returncode == 1


PG_PASSWORD = "pg-S3cret-5512"


def test_store_options_go_before_or_after_the_command(tmp_path: Path) -> None:
    before = run_cli(["--data-dir", str(tmp_path / "before"), "token", "list"], clean_env())
    after = run_cli(["token", "list", "--data-dir", str(tmp_path / "after")], clean_env())

    assert before.returncode == after.returncode == 0, before.stderr + after.stderr
    assert before.stderr.startswith(f"mailgate: database {tmp_path / 'before' / 'mailgate.db'}\n")
    assert after.stderr.startswith(f"mailgate: database {tmp_path / 'after' / 'mailgate.db'}\n")


def test_postgres_is_named_without_its_password(tmp_path: Path, pg_database_url: str) -> None:
    url = make_url(pg_database_url)
    fresh = f"mailgate_cli_{secrets.token_hex(4)}"
    admin = url.render_as_string(hide_password=False)
    asyncio.run(_pg(admin, f'CREATE DATABASE "{fresh}"'))
    try:
        # The test server trusts local connections, so any password works; it must not be shown.
        with_password = url.set(database=fresh, password=PG_PASSWORD, query={"password": PG_PASSWORD})
        env = clean_env(
            MAILGATE_DATABASE_URL=with_password.render_as_string(hide_password=False),
            MAILGATE_MASTER_KEY=TEST_KEY,
        )
        first = run_cli(["migrate"], env)
        second = run_cli(["token", "list"], env)
    finally:
        asyncio.run(_pg(admin, f'DROP DATABASE IF EXISTS "{fresh}" WITH (FORCE)'))

    shown = url.set(database=fresh)._replace(password=None).render_as_string(hide_password=False)
    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    assert first.stderr.startswith(f"mailgate: database {shown}\n") and NEW_DATABASE in first.stderr
    assert second.stderr == f"mailgate: database {shown}\n"
    assert PG_PASSWORD not in first.stderr + first.stdout + second.stderr + second.stdout


async def _pg(dsn: str, sql: str) -> None:
    conn = await asyncpg.connect(dsn.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def test_version() -> None:
    done = run_cli(["--version"], clean_env())

    assert done.returncode == 0
    assert done.stdout == f"mailgate {metadata.version('mailgate')}\n"


# --- startup checks ---


def _run_all(cases: dict[str, dict[str, str]], cwd: Path) -> dict[str, subprocess.CompletedProcess[str]]:
    """Run `mailgate serve` once per case, all at once (each stops at startup)."""
    started = {
        name: subprocess.Popen(
            [*mailgate_command(), "serve"],
            env=env,
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name, env in cases.items()
    }
    done = {}
    for name, process in started.items():
        try:
            out, err = process.communicate(timeout=60)
        finally:
            process.kill()
        done[name] = subprocess.CompletedProcess(process.args, process.returncode, out, err)
    return done


def test_bad_settings_stop_startup_with_one_line_naming_them(
    tmp_path: Path, pg_url_or_none: str | None
) -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    taken = f"127.0.0.1:{listener.getsockname()[1]}"
    base = {"MAILGATE_DATA_DIR": str(tmp_path / "data"), "MAILGATE_HTTP_ADDR": "127.0.0.1:0"}
    pg = pg_url_or_none or "postgresql://postgres@127.0.0.1:1/none"
    cases = {
        "MAILGATE_GRPC_ADDR": clean_env(**base, MAILGATE_GRPC_ADDR="nonsense"),
        "MAILGATE_MASTER_KEY": clean_env(**base, MAILGATE_MASTER_KEY="c2hvcnQ="),
        "MAILGATE_SHUTDOWN_GRACE": clean_env(**base, MAILGATE_SHUTDOWN_GRACE="-1"),
        "MAILGATE_DATABASE_URL": clean_env(**base, MAILGATE_DATABASE_URL="mysql://db/mail"),
        "postgres without key": clean_env(**base, MAILGATE_DATABASE_URL=pg),
        "port in use": clean_env(**base, MAILGATE_GRPC_ADDR=taken),
    }
    try:
        done = _run_all(cases, tmp_path)
    finally:
        listener.close()

    for name, result in done.items():
        assert result.returncode not in (0, None), (name, result.stderr)
        lines = result.stderr.splitlines()
        assert len(lines) == 1, (name, result.stderr)
        assert result.stdout == "", name
        assert "Traceback" not in result.stderr
    for setting in (
        "MAILGATE_GRPC_ADDR",
        "MAILGATE_MASTER_KEY",
        "MAILGATE_SHUTDOWN_GRACE",
        "MAILGATE_DATABASE_URL",
    ):
        assert setting in done[setting].stderr, done[setting].stderr
    no_key = done["postgres without key"].stderr
    assert "MAILGATE_MASTER_KEY" in no_key and "PostgreSQL" in no_key
    assert taken in done["port in use"].stderr


@pytest.fixture
def pg_url_or_none() -> str | None:
    """The PostgreSQL test server's URL when configured (startup must stop before using it)."""
    return os.environ.get("MAILGATE_TEST_DATABASE_URL") or None


# --- a running server ---


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Served, dict[str, str], Path]]:
    """`mailgate serve` on the embedded default: ./mailgate-data in its working directory."""
    home = tmp_path_factory.mktemp("home")
    env = clean_env()
    server = Served.start(env, home / "serve.log", cwd=home)
    cli_env = clean_env(MAILGATE_DATA_DIR=str(home / "mailgate-data"))
    try:
        yield server, cli_env, home
    finally:
        if server.process.poll() is None:
            server.process.send_signal(signal.SIGINT)
        code = server.stop()
    assert code == 0, server.log()  # SIGINT stops as cleanly as SIGTERM


def test_serve_names_its_database_and_warns_when_it_creates_one(
    served: tuple[Served, dict[str, str], Path], tmp_path: Path
) -> None:
    server, _, home = served
    again_env = clean_env(MAILGATE_DATA_DIR=str(home / "mailgate-data"))  # now it exists
    again = Served.start(again_env, tmp_path / "again.log")
    again.stop()

    database = str(home / "mailgate-data" / "mailgate.db")
    for log in (server.log_lines(), again.log_lines()):
        assert [line.get("database") for line in log if line.get("msg") == "serving"] == [database]
    warnings = [line for line in server.log_lines() if line.get("level") == "warning"]
    assert [
        (line["msg"].startswith("created a new, empty database"), line["database"]) for line in warnings
    ] == [(True, database)]
    assert not [line for line in again.log_lines() if line.get("level") == "warning"]


def test_a_token_from_another_directory_is_refused_with_a_hint(
    served: tuple[Served, dict[str, str], Path], tmp_path: Path
) -> None:
    # The newcomer's mistake: `token create` run outside the server's working directory.
    server, _, home = served

    created = run_cli(["token", "create", "--permission", "iam.write"], clean_env(), cwd=tmp_path)
    token = created.stdout.strip().splitlines()[-1]
    with grpc.insecure_channel(server.target) as channel, pytest.raises(grpc.RpcError) as refused:
        admin_pb2_grpc.AdminServiceStub(channel).ListEmailProviders(
            pb.ListEmailProvidersRequest(), metadata=_bearer(token), timeout=10
        )

    # The CLI said where it wrote and that the database was new; the server's log names its own.
    assert f"database {tmp_path / 'mailgate-data' / 'mailgate.db'}" in created.stderr
    assert NEW_DATABASE in created.stderr
    serving = next(line for line in server.log_lines() if line.get("msg") == "serving")
    assert serving["database"] == str(home / "mailgate-data" / "mailgate.db")
    # The refusal points at the cause without naming any path.
    assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert refused.value.details() == f"{INVALID_TOKEN_TEXT} (MG-AUTH-INVALID)"
    assert "database it was created in" in INVALID_TOKEN_TEXT and str(home) not in INVALID_TOKEN_TEXT


def test_embedded_default_creates_an_owner_only_key_file(served: tuple[Served, dict[str, str], Path]) -> None:
    _, _, home = served
    key = home / "mailgate-data" / "master.key"

    assert (home / "mailgate-data" / "mailgate.db").exists()
    assert stat.S_IMODE(key.stat().st_mode) == 0o600


def test_a_token_created_while_serving_works_at_once(served: tuple[Served, dict[str, str], Path]) -> None:
    server, env, _ = served

    writer = create_token(env, "iam.write", "acme")
    assert _list(server.target, writer) == grpc.StatusCode.OK
    reader = create_token(env, "iam.read", "acme")
    with grpc.insecure_channel(server.target) as channel:
        stub = admin_pb2_grpc.AdminServiceStub(channel)
        with pytest.raises(grpc.RpcError) as denied:
            stub.AddEmailProviderSMTP(smtp_add(), metadata=_bearer(reader), timeout=10)
        assert denied.value.code() == grpc.StatusCode.PERMISSION_DENIED
        added = stub.AddEmailProviderSMTP(smtp_add(), metadata=_bearer(writer), timeout=10)
        listed = stub.ListEmailProviders(pb.ListEmailProvidersRequest(), metadata=_bearer(reader), timeout=10)
        assert [p.id for p in listed.result] == [added.id]


async def test_a_token_revoked_while_serving_stops_working(tmp_path: Path) -> None:
    # An in-process server that checks every token anew (a served one caches them for a second).
    env = clean_env(
        MAILGATE_DATA_DIR=str(tmp_path / "data"),
        MAILGATE_GRPC_ADDR="127.0.0.1:0",
        MAILGATE_HTTP_ADDR="127.0.0.1:0",
    )
    server = await start_server(env, token_cache_seconds=0)
    try:
        cli = ["token", "create", "--permission", "iam.read", "--instance", "revoke-me"]
        created = await asyncio.to_thread(run_cli, cli, env)
        token = created.stdout.strip().splitlines()[-1]
        token_id = created.stdout.split()[2]  # "created token <id> for instance ..."
        listing = pb.ListEmailProvidersRequest()
        await server.stub.ListEmailProviders(listing, metadata=_bearer(token), timeout=10)

        revoked = await asyncio.to_thread(run_cli, ["token", "revoke", token_id], env)
        assert revoked.returncode == 0, revoked.stderr

        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await server.stub.ListEmailProviders(listing, metadata=_bearer(token), timeout=10)
        assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED
    finally:
        await server.close()


def test_reflection_lists_the_admin_service(served: tuple[Served, dict[str, str], Path]) -> None:
    server, _, _ = served
    with grpc.insecure_channel(server.target) as channel:
        stub = reflection_pb2_grpc.ServerReflectionStub(channel)
        answers = list(
            stub.ServerReflectionInfo(
                iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=10
            )
        )
        described = list(
            stub.ServerReflectionInfo(
                iter([reflection_pb2.ServerReflectionRequest(file_containing_symbol=ADMIN_SERVICE)]),
                timeout=10,
            )
        )

    names = {service.name for service in answers[0].list_services_response.service}
    assert {ADMIN_SERVICE, "grpc.health.v1.Health"} <= names
    assert described[0].file_descriptor_response.file_descriptor_proto  # clients can fetch the protos


def test_health_answers_serving(served: tuple[Served, dict[str, str], Path]) -> None:
    server, _, _ = served
    with grpc.insecure_channel(server.target) as channel:
        health = health_pb2_grpc.HealthStub(channel)
        overall = health.Check(health_pb2.HealthCheckRequest(), timeout=10)
        admin = health.Check(health_pb2.HealthCheckRequest(service=ADMIN_SERVICE), timeout=10)

    assert overall.status == admin.status == health_pb2.HealthCheckResponse.SERVING


def test_logs_are_json_lines(served: tuple[Served, dict[str, str], Path]) -> None:
    server, _, _ = served

    lines = server.log_lines()

    assert lines and all("unparsed" not in line for line in lines), server.log()
    assert any(line.get("msg") == "serving" for line in lines)


# --- shutdown ---


class _HeldAtData:
    """An SMTP server's handler that keeps its answer to DATA until released: a call surely in flight."""

    def __init__(self) -> None:
        self.reached = threading.Event()
        self.release = threading.Event()
        self.messages: list[bytes] = []

    async def handle_DATA(self, server: object, session: object, envelope: Envelope) -> str:
        self.reached.set()
        await asyncio.get_running_loop().run_in_executor(None, self.release.wait)
        self.messages.append(envelope.original_content or b"")
        return "250 2.0.0 Ok: queued"


def _eventually(condition: Callable[[], bool], timeout: float = 20) -> bool:
    """Whether `condition` came true within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_sigterm_drains_the_call_in_flight_then_exits_0(tmp_path: Path) -> None:
    handler = _HeldAtData()
    smtp = Controller(handler, hostname="127.0.0.1", port=free_port())
    smtp.start()
    env = clean_env(
        MAILGATE_DATA_DIR=str(tmp_path / "data"),
        MAILGATE_MASTER_KEY=TEST_KEY,
        MAILGATE_OUTBOUND_ALLOW="127.0.0.0/8,::1/128",
        MAILGATE_SMTP_HELO_NAME="client.test",
        MAILGATE_SMTP_COMMAND_TIMEOUT="60",
        MAILGATE_SMTP_TEST_TIMEOUT="60",
        MAILGATE_SHUTDOWN_GRACE="60",
    )
    server = Served.start(env, tmp_path / "serve.log")
    try:
        token = create_token(env)
        request = pb.TestEmailProviderSMTPRequest(
            sender_address="noreply@example.com",
            sender_name="Example",
            host=f"127.0.0.1:{smtp.port}",
            receiver_address="admin@example.com",
            none=pb.SMTPNoAuth(),
        )
        outcome: dict[str, object] = {}

        def send() -> None:
            with grpc.insecure_channel(server.target) as channel:
                stub = admin_pb2_grpc.AdminServiceStub(channel)
                try:
                    stub.TestEmailProviderSMTP(request, metadata=_bearer(token), timeout=60)
                    outcome["code"] = grpc.StatusCode.OK
                except grpc.RpcError as error:
                    outcome["code"] = error.code()

        caller = threading.Thread(target=send)
        try:
            caller.start()
            assert handler.reached.wait(30), server.log()  # mailgate is sending the test email
            server.process.send_signal(signal.SIGTERM)
            # New calls are refused while the held one keeps the process draining.
            assert _eventually(lambda: _list(server.target, token) != grpc.StatusCode.OK), server.log()
            assert server.process.poll() is None
            assert not handler.messages
        finally:
            handler.release.set()
            caller.join(60)

        assert server.process.wait(20) == 0
        assert outcome == {"code": grpc.StatusCode.OK}
        assert len(handler.messages) == 1 and b"admin@example.com" in handler.messages[0]
        messages = [line.get("msg") for line in server.log_lines()]
        assert messages.index("draining") < messages.index("stopped")
    finally:
        server.stop()
        smtp.stop()
    assert not (tmp_path / "data" / "master.key").exists()  # with MAILGATE_MASTER_KEY there is no key file
