"""TLS on both listeners (MAILGATE_TLS_CERT_FILE, MAILGATE_TLS_KEY_FILE), with clients that verify it.

The certificate comes from a trustme CA; the clients trust that CA and nothing else, so a call that
succeeds shows the listener served that certificate for 127.0.0.1.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import grpc
import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from grpc_health.v1 import health_pb2, health_pb2_grpc

from mailgate.gen.zitadel import admin_pb2 as pb
from mailgate.gen.zitadel import admin_pb2_grpc
from tests.fixtures.pki import Pki, new_pki
from tests.fixtures.processes import clean_env, run_cli
from tests.fixtures.servers import RunningServer, running_server
from tests.transports.conftest import SMTP


@pytest.fixture
async def tls_server(settings_env: dict[str, str], pki: Pki) -> AsyncIterator[RunningServer]:
    async with running_server({**settings_env, **pki.env()}, ca_pem=pki.ca_pem) as running:
        yield running


async def test_native_grpc_answers_over_tls(tls_server: RunningServer) -> None:
    metadata = await tls_server.metadata()
    request = pb.AddEmailProviderSMTPRequest(
        sender_address="tls@example.com", sender_name="TLS", host="smtp.example.com:587"
    )
    added = await tls_server.stub.AddEmailProviderSMTP(request, metadata=metadata)
    listed = await tls_server.stub.ListEmailProviders(pb.ListEmailProvidersRequest(), metadata=metadata)
    assert [config.id for config in listed.result] == [added.id]
    health = health_pb2_grpc.HealthStub(tls_server.channel)
    answer = await health.Check(health_pb2.HealthCheckRequest())
    assert answer.status == health_pb2.HealthCheckResponse.SERVING


async def test_native_grpc_refuses_plaintext_and_untrusted_clients(tls_server: RunningServer) -> None:
    metadata = await tls_server.metadata()
    default_roots = grpc.ssl_channel_credentials()  # the system's CAs, which never signed this certificate
    channels = [
        grpc.aio.insecure_channel(tls_server.grpc_target),
        grpc.aio.secure_channel(tls_server.grpc_target, default_roots),
    ]
    for channel in channels:
        async with channel:
            stub = admin_pb2_grpc.AdminServiceStub(channel)
            with pytest.raises(grpc.aio.AioRpcError) as failed:
                await stub.ListEmailProviders(pb.ListEmailProvidersRequest(), metadata=metadata, timeout=10)
            assert failed.value.code() == grpc.StatusCode.UNAVAILABLE


async def test_the_http_port_serves_https(tls_server: RunningServer, pki: Pki) -> None:
    assert tls_server.http_base.startswith("https://127.0.0.1:")
    headers = {"Authorization": f"Bearer {await tls_server.token()}"}
    async with httpx.AsyncClient(base_url=tls_server.http_base, verify=pki.client_context()) as http:
        assert (await http.get("/healthz")).json() == {"status": "SERVING"}
        added = await http.post("/admin/v1/email/smtp", json=SMTP, headers=headers)
        assert added.status_code == 200, added.text
        listed = await http.post("/admin/v1/email/_search", json={}, headers=headers)
        assert [item["id"] for item in listed.json()["result"]] == [added.json()["id"]]


async def test_the_http_port_refuses_plaintext_and_untrusted_clients(tls_server: RunningServer) -> None:
    plain = tls_server.http_base.replace("https://", "http://")
    async with httpx.AsyncClient(timeout=10) as http:  # verifies against the system's CAs
        with pytest.raises(httpx.TransportError):
            await http.get(f"{plain}/healthz")
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            await http.get(f"{tls_server.http_base}/healthz")


def test_bad_tls_settings_stop_startup_with_one_line_naming_them(tmp_path: Path) -> None:
    pki = new_pki(tmp_path / "pki")
    other = new_pki(tmp_path / "other")
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not PEM at all\n")
    encrypted = tmp_path / "encrypted.pem"
    encrypted.write_bytes(_encrypted_key(pki.key_file))
    cert, key = "MAILGATE_TLS_CERT_FILE", "MAILGATE_TLS_KEY_FILE"
    cases = {
        "cert without key": (key, {cert: str(pki.cert_file)}),
        "key without cert": (cert, {key: str(pki.key_file)}),
        "missing cert file": (cert, {cert: str(tmp_path / "nowhere.pem"), key: str(pki.key_file)}),
        "cert is a directory": (cert, {cert: str(tmp_path), key: str(pki.key_file)}),
        "cert is no certificate": (cert, {cert: str(garbage), key: str(pki.key_file)}),
        "key is no key": (key, {cert: str(pki.cert_file), key: str(garbage)}),
        "key is encrypted": (key, {cert: str(pki.cert_file), key: str(encrypted)}),
        "key of another certificate": (key, {cert: str(pki.cert_file), key: str(other.key_file)}),
    }
    base = {
        "MAILGATE_DATA_DIR": str(tmp_path / "data"),
        "MAILGATE_GRPC_ADDR": "127.0.0.1:0",
        "MAILGATE_HTTP_ADDR": "127.0.0.1:0",
    }
    with ThreadPoolExecutor(max_workers=4) as pool:
        runs = {
            name: pool.submit(run_cli, ["serve"], clean_env(**base, **settings))
            for name, (_, settings) in cases.items()
        }
    for name, (setting, _) in cases.items():
        done = runs[name].result()
        assert done.returncode == 2, (name, done.stderr)
        assert len(done.stderr.splitlines()) == 1 and done.stdout == "", (name, done.stderr)
        assert done.stderr.startswith(f"mailgate: {setting}: "), (name, done.stderr)
    assert not (tmp_path / "data").exists()  # stopped before opening the store


def _encrypted_key(key_file: Path) -> bytes:
    key = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"passphrase"),
    )
