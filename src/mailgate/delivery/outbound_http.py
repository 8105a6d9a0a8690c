"""HTTP requests to an address the outbound policy checked: the URL's name for the Host header, SNI
and the certificate check, the checked address for the connection; no proxy, no redirects."""

from __future__ import annotations

import ssl
from typing import Any

import httpx

from .policy import parse_ip


def outbound_client(tls: ssl.SSLContext, timeout: httpx.Timeout) -> httpx.AsyncClient:
    """A client that never follows a redirect and never uses a proxy from the environment (which
    would connect to the name itself, not to the checked address)."""
    return httpx.AsyncClient(verify=tls, trust_env=False, follow_redirects=False, timeout=timeout)


def request_to(
    client: httpx.AsyncClient,
    url: httpx.URL,
    host: str,
    address: str,
    *,
    headers: dict[str, str],
    content: bytes | None = None,
    form: dict[str, str] | None = None,
    extensions: dict[str, Any] | None = None,  # httpx's own type for request extensions
) -> httpx.Request:
    """A POST of `url` sent to `address` (a checked address of `host`, the URL's name as the policy
    read it); TLS still verifies the certificate against the name (SNI)."""
    sent = {"Host": url.netloc.decode("ascii"), **headers}
    options: dict[str, Any] = {} if parse_ip(host) else {"sni_hostname": host}
    options.update(extensions or {})
    return client.build_request(
        "POST", url.copy_with(host=address), headers=sent, content=content, data=form, extensions=options
    )


async def read_body(response: httpx.Response, limit: int) -> bytes | None:
    """The response body, or None as soon as it is larger than `limit` bytes; the response is closed."""
    body = bytearray()
    try:
        async for chunk in response.aiter_raw():
            body += chunk
            if len(body) > limit:
                return None
    finally:
        await response.aclose()
    return bytes(body)
