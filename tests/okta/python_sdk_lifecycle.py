"""Okta's Python SDK (okta, PyPI) through the Email Servers lifecycle against mailgate.

Run as `python python_sdk_lifecycle.py '<json>'` (orgUrl, token, host, port, username, password,
fromAddress, toAddress) with SSL_CERT_FILE naming mailgate's CA, which aiohttp's default context
reads. okta 3.4.6's own `sslContext` option cannot be used: the SDK deep-copies its configuration,
and an SSLContext cannot be copied. Prints one JSON object: what each step returned, as the SDK
parsed it; a failed step prints its error on stderr and exits 1.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

from okta.client import Client as OktaClient
from okta.models.email_server_post import EmailServerPost
from okta.models.email_server_request import EmailServerRequest
from okta.models.email_test_addresses import EmailTestAddresses


def _ok(step: str, result: tuple[Any, ...]) -> Any:
    """The data of a call that must succeed; the SDK returns its error last."""
    if result[-1] is not None:
        sys.exit(f"{step} failed: {result[-1]}")
    return result[0]


def _dict(model: Any) -> Any:
    return None if model is None else model.to_dict()


async def lifecycle(given: dict[str, Any]) -> dict[str, Any]:
    async with OktaClient({"orgUrl": given["orgUrl"], "token": given["token"]}) as client:
        post = EmailServerPost(
            alias="Python SDK",
            host=given["host"],
            port=given["port"],
            username=given["username"],
            password=given["password"],
        )
        created = _ok("create", await client.create_email_server(post))
        listed = _ok("list", await client.list_email_servers())
        got = _ok("get", await client.get_email_server(created.id))
        renamed = EmailServerRequest(alias="Python SDK renamed", enabled=True)
        updated = _ok("update", await client.update_email_server(created.id, renamed))
        addresses = EmailTestAddresses(from_address=given["fromAddress"], to_address=given["toAddress"])
        tested = _ok("test", await client.test_email_server(created.id, addresses))
        deleted = _ok("delete", await client.delete_email_server(created.id))
        *_, gone = await client.get_email_server(created.id)
    return {
        "created": _dict(created),
        "listed": _dict(listed),
        "got": _dict(got),
        "updated": _dict(updated),
        "tested": tested,
        "deleted": deleted,
        "afterDelete": {"status": gone.status, "errorCode": gone.error_code} if gone else None,
    }


if __name__ == "__main__":
    print(json.dumps(asyncio.run(lifecycle(json.loads(sys.argv[1])))))
