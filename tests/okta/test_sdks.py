"""Okta's own SDKs against one mailgate over HTTPS: the Python SDK (okta, PyPI) and the Node SDK
(@okta/okta-sdk-nodejs, npm), each through create, list, get, update, test and delete.

Each runs in a process of its own, trusting the listener's trustme CA the way a user would make it:
the Python SDK through SSL_CERT_FILE (aiohttp's default context; okta 3.4.6's `sslContext` option
fails, see python_sdk_lifecycle.py), the Node SDK through NODE_EXTRA_CA_CERTS. The test email goes
to a local aiosmtpd server over STARTTLS with AUTH, as every server made through Okta's API does.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.credentials import PASSWORD, USER
from tests.fixtures.network import LOCAL
from tests.fixtures.pki import Pki
from tests.fixtures.servers import RunningServer
from tests.fixtures.smtp import SmtpServer, unique

pytestmark = pytest.mark.asyncio(loop_scope="session")

HERE = Path(__file__).parent
NODE_PROJECT = HERE / "node"
SENDER = "okta-sdk@example.com"


@pytest.fixture(scope="session")
def node_project() -> Path:
    """The npm project with its locked dependencies installed (`npm ci` once per session)."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("node and npm are needed for Okta's Node SDK")
    lock = NODE_PROJECT / "package-lock.json"
    marker = NODE_PROJECT / "node_modules" / ".package-lock.json"
    if not marker.exists() or marker.stat().st_mtime < lock.stat().st_mtime:
        result = subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=NODE_PROJECT,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if result.returncode != 0:
            pytest.skip(f"npm ci could not install Okta's Node SDK: {result.stderr.strip()[-500:]}")
    return NODE_PROJECT


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
    process = await asyncio.create_subprocess_exec(
        *command,
        json.dumps(given),
        cwd=cwd,
        env={**os.environ, **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 0, err.decode()
    return dict(json.loads(out)), receiver


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
