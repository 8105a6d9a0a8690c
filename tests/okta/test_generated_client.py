"""A client openapi-python-client generates from the served /openapi.json, through Okta's lifecycle.

A generated client sends every property whose schema has a default, whether the user set it or not;
in a PATCH that changes what the user did not touch. So partial updates must declare no defaults,
and a rename must leave the rest of the server as it was.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
import pytest_asyncio

from tests.fixtures.credentials import CLIENT_ID, CLIENT_SECRET, PASSWORD, USER
from tests.fixtures.network import LOCAL
from tests.fixtures.pki import Pki
from tests.fixtures.servers import RunningServer
from tests.fixtures.smtp import SmtpServer, unique

pytestmark = pytest.mark.asyncio(loop_scope="session")

PACKAGE = "mailgate_generated_client"
OPTIONS = ("--meta", "none", "--output-path", PACKAGE)  # just the package, into ./PACKAGE


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def served_document(tls_server: RunningServer, pki: Pki) -> dict[str, Any]:
    async with httpx.AsyncClient(verify=pki.client_context()) as http:
        response = await http.get(f"{tls_server.http_base}/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


@pytest.fixture(scope="session")
def generated(
    served_document: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Generated]:
    """The client package openapi-python-client generates from the served document, importable."""
    folder = tmp_path_factory.mktemp("generated")
    (folder / "openapi.json").write_text(json.dumps(served_document))
    (folder / "config.json").write_text(json.dumps({"post_hooks": []}))  # no formatter run needed
    command = Path(sys.executable).with_name("openapi-python-client")
    done = subprocess.run(
        [str(command), "generate", "--path", "openapi.json", "--config", "config.json", *OPTIONS],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    sys.path.insert(0, str(folder))
    try:
        yield Generated()
    finally:
        sys.path.remove(str(folder))
        for name in [name for name in sys.modules if name.split(".")[0] == PACKAGE]:
            del sys.modules[name]


class Generated:
    """The generated package's modules, by their path below the package."""

    def module(self, path: str) -> ModuleType:
        return importlib.import_module(f"{PACKAGE}.{path}")

    def operation(self, name: str) -> ModuleType:
        return self.module(f"api.email_server.{name}")

    def model(self, name: str) -> Any:
        return getattr(self.module("models"), name)


@pytest_asyncio.fixture(loop_scope="session")
async def client(tls_server: RunningServer, pki: Pki, generated: Generated) -> AsyncIterator[Any]:
    """The generated AuthenticatedClient as `SSWS <token>` on a fresh instance, trusting the CA."""
    token = await tls_server.token("iam.write", f"generated-{unique('x').split('@')[0]}")
    authenticated = generated.module("client").AuthenticatedClient(
        base_url=tls_server.http_base, token=token, prefix="SSWS", verify_ssl=pki.client_context()
    )
    async with authenticated:
        yield authenticated


async def test_generated_client_lifecycle(
    client: Any, generated: Generated, mailboxes: dict[str, SmtpServer]
) -> None:
    smtp = mailboxes["starttls"]
    create = generated.operation("create_email_server")
    basic = generated.model("OktaEmailServerCreateBasic")(
        alias="Generated", host=LOCAL, port=smtp.port, username=USER, password=PASSWORD, enabled=True
    )
    created = await create.asyncio_detailed(client=client, body=basic)
    assert created.status_code == 201, created.content
    server_id = created.parsed.id

    listed = await generated.operation("list_email_servers").asyncio(client=client)
    assert [item.id for item in listed.email_servers] == [server_id]
    got = await generated.operation("get_email_server").asyncio(server_id, client=client)
    assert (got.id, got.alias, got.enabled, got.port) == (server_id, "Generated", True, smtp.port)

    update = generated.operation("update_email_server")
    rename = generated.model("OktaEmailServerUpdate")(alias="Generated renamed")
    renamed = await update.asyncio_detailed(server_id, client=client, body=rename)
    assert renamed.status_code == 200, renamed.content
    # Only the alias changed: the server is still the active one, with its auth type.
    assert renamed.parsed.to_dict() == {**created.parsed.to_dict(), "alias": "Generated renamed"}

    receiver = unique()
    addresses = generated.model("OktaEmailTestAddresses")(from_address="gen@example.com", to_address=receiver)
    tested = await generated.operation("test_email_server").asyncio_detailed(
        server_id, client=client, body=addresses
    )
    assert tested.status_code == 204, tested.content
    assert [envelope.rcpt_tos for envelope in smtp.received(receiver)] == [[receiver]]

    deleted = await generated.operation("delete_email_server").asyncio_detailed(server_id, client=client)
    assert deleted.status_code == 204
    gone = await generated.operation("get_email_server").asyncio_detailed(server_id, client=client)
    assert (gone.status_code, gone.parsed.error_code) == (404, "E0000007")


async def test_generated_client_renames_an_oauth2_server(client: Any, generated: Generated) -> None:
    credentials = generated.model("OktaEmailServerCreateClientCredentials").from_dict(
        {
            "alias": "Microsoft 365",
            "host": "smtp.office365.com",
            "port": 587,
            "username": "mailer@contoso.example",
            "authType": "OAUTH2_CLIENT_CREDENTIALS",
            "clientId": CLIENT_ID,
            "clientSecret": CLIENT_SECRET,
            "tokenEndpoint": "https://login.example.com/oauth2/v2.0/token",
            "tokenEndpointAuthMethod": "CLIENT_SECRET_POST",
            "scopes": ["https://outlook.office365.com/.default"],
        }
    )
    created = await generated.operation("create_email_server").asyncio_detailed(
        client=client, body=credentials
    )
    assert created.status_code == 201, created.content

    rename = generated.model("OktaEmailServerUpdate")(alias="Microsoft 365 (renamed)")
    renamed = await generated.operation("update_email_server").asyncio_detailed(
        created.parsed.id, client=client, body=rename
    )
    assert renamed.status_code == 200, renamed.content
    assert renamed.parsed.to_dict() == {**created.parsed.to_dict(), "alias": "Microsoft 365 (renamed)"}


def _defaults(schema: Any, document: dict[str, Any], seen: frozenset[str] = frozenset()) -> list[str]:
    """Every property default reachable from `schema` (through $refs), as "name=value"."""
    if isinstance(schema, list):
        return [found for item in schema for found in _defaults(item, document, seen)]
    if not isinstance(schema, dict):
        return []
    found = []
    ref = schema.get("$ref")
    if ref and ref not in seen:
        name = ref.rsplit("/", 1)[-1]
        found += _defaults(document["components"]["schemas"][name], document, seen | {ref})
    for name, value in schema.get("properties", {}).items():
        if isinstance(value, dict) and "default" in value:
            found.append(f"{name}={value['default']!r}")
    found += _defaults(list(schema.get("properties", {}).values()), document, seen)
    for key in ("items", "allOf", "oneOf", "anyOf", "additionalProperties"):
        found += _defaults(schema.get(key), document, seen)
    return found


async def test_no_update_declares_a_default_and_no_patch_a_required_property(
    served_document: dict[str, Any],
) -> None:
    """A generated client sends every default and makes every required property an argument: an
    update (ZITADEL's PUTs, Okta's PATCH) may declare no default, a partial one no required property."""
    updates = [
        (method, path, operation["requestBody"]["content"]["application/json"]["schema"])
        for path, item in served_document["paths"].items()
        for method, operation in item.items()
        if method in ("put", "patch")
    ]
    assert {method for method, _, _ in updates} == {"put", "patch"}
    schemas = served_document["components"]["schemas"]
    for method, path, schema in updates:
        assert _defaults(schema, served_document) == [], (method, path)
        if method == "patch":
            assert "required" not in schemas[schema["$ref"].rsplit("/", 1)[-1]], path
