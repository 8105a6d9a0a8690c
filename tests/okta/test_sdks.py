"""Okta's own SDKs against one mailgate over HTTPS: the Python SDK (okta, PyPI) and the Node SDK
(@okta/okta-sdk-nodejs, npm), each through create, list, get, update, test and delete.

Each runs in a process of its own, trusting the listener's trustme CA the way a user would make it:
the Python SDK through SSL_CERT_FILE (aiohttp's default context; okta 3.4.6's `sslContext` option
fails, see python_sdk_lifecycle.py), the Node SDK through NODE_EXTRA_CA_CERTS. The test email goes
to a local aiosmtpd server over STARTTLS with AUTH, as every server made through Okta's API does.
"""

from __future__ import annotations

import json
import os
import secrets
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.credentials import PASSWORD, USER
from tests.fixtures.network import LOCAL
from tests.fixtures.node import npm_project
from tests.fixtures.pki import Pki
from tests.fixtures.processes import json_output
from tests.fixtures.servers import RunningServer
from tests.fixtures.smtp import SmtpServer, unique

pytestmark = pytest.mark.asyncio(loop_scope="session")

HERE = Path(__file__).parent
NODE_PROJECT = HERE / "node"
SENDER = "okta-sdk@example.com"


@pytest.fixture(scope="session")
def node_project() -> Path:
    """The npm project in node/, installed once per session."""
    return npm_project(NODE_PROJECT, "Okta's Node SDK")


async def _lifecycle(
    command: list[str], cwd: Path, env: dict[str, str], server: RunningServer, smtp: SmtpServer
) -> tuple[dict[str, Any], str]:
    """Run one SDK's lifecycle script on a fresh instance; (what it printed, the test's receiver)."""
    receiver = unique()
    given = {
        "orgUrl": server.http_base,
        "token": await server.token("iam.write", f"okta-sdk-{secrets.token_hex(6)}"),
        "host": LOCAL,
        "port": smtp.port,
        "username": USER,
        "password": PASSWORD,
        "fromAddress": SENDER,
        "toAddress": receiver,
    }
    printed = await json_output([*command, json.dumps(given)], cwd=cwd, env={**os.environ, **env})
    return printed, receiver


def _expected(created: dict[str, Any], alias: str, smtp: SmtpServer) -> dict[str, Any]:
    return {
        "id": created["id"],
        "alias": alias,
        "enabled": False,
        "host": LOCAL,
        "port": smtp.port,
        "username": USER,
    }


async def test_okta_python_sdk_lifecycle(
    tls_server: RunningServer, pki: Pki, mailboxes: dict[str, SmtpServer]
) -> None:
    smtp = mailboxes["starttls"]
    command = [sys.executable, "python_sdk_lifecycle.py"]
    env = {"SSL_CERT_FILE": str(pki.ca_file)}
    result, receiver = await _lifecycle(command, HERE, env, tls_server, smtp)

    expected = _expected(result["created"], "Python SDK", smtp)
    assert result["created"] == expected
    assert result["listed"] == {"email-servers": [expected]}
    # okta 3.4.6 reads getEmailServer as the list response: the one server under "email-servers".
    assert result["got"] == {"email-servers": [expected]}
    assert result["updated"] == {**expected, "alias": "Python SDK renamed", "enabled": True}
    assert (result["tested"], result["deleted"]) == (None, None)  # 204s
    [envelope] = smtp.received(receiver)
    assert (envelope.mail_from, envelope.rcpt_tos) == (SENDER, [receiver])
    assert result["afterDelete"] == {"status": 404, "errorCode": "E0000007"}


async def test_okta_node_sdk_lifecycle(
    tls_server: RunningServer,
    pki: Pki,
    mailboxes: dict[str, SmtpServer],
    node_project: Path,
) -> None:
    smtp = mailboxes["starttls"]
    env = {"NODE_EXTRA_CA_CERTS": str(pki.ca_file)}
    result, receiver = await _lifecycle(
        ["node", "okta_sdk_lifecycle.mjs"], node_project, env, tls_server, smtp
    )

    expected = _expected(result["created"], "Node SDK", smtp)
    assert result["created"] == expected
    # The Node SDK hands the list over as parsed JSON, every property included.
    assert result["listed"] == {"email-servers": [{**expected, "authType": "BASIC_SMTP_AUTH"}]}
    assert result["got"] == expected  # it keeps only EmailServerResponse's properties
    renamed = {**expected, "alias": "Node SDK renamed", "enabled": True}
    assert (result["updated"], result["gotUpdated"]) == (renamed, renamed)
    assert result["tested"] is None  # 204
    [envelope] = smtp.received(receiver)
    assert (envelope.mail_from, envelope.rcpt_tos) == (SENDER, [receiver])
    assert result["afterDelete"] == {"status": 404, "errorCode": "E0000007"}
