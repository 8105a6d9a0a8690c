"""The admin console's built assets at /console/ on the HTTP port: same origin as the API, no CORS.

The files (console/, built by `make console`) ship inside the package and are read once at startup.
Every answer carries a strict Content-Security-Policy (scripts and styles from this origin only, no
inline script, no framing); index.html is revalidated on every load, the content-hashed assets it
names are cached for a year.
"""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass
from pathlib import Path

from starlette.types import Receive, Scope, Send

PREFIX = "/console"
STATIC = Path(__file__).resolve().parent.parent / "console" / "static"
INDEX = "index.html"
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
_TYPES = {
    ".html": b"text/html; charset=utf-8",
    ".js": b"text/javascript; charset=utf-8",
    ".css": b"text/css; charset=utf-8",
    ".png": b"image/png",
    ".svg": b"image/svg+xml",
}
_SECURITY = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
]
_REVALIDATE = b"no-cache"
_IMMUTABLE = b"public, max-age=31536000, immutable"


@dataclass(frozen=True, slots=True)
class Asset:
    body: bytes
    gzipped: bytes
    content_type: bytes
    etag: bytes
    cache: bytes


def load_assets(folder: Path = STATIC) -> dict[str, Asset]:
    """Every built file by name; empty when the console was never built."""
    assets: dict[str, Asset] = {}
    if not folder.is_dir():
        return assets
    for path in sorted(folder.iterdir()):
        content_type = _TYPES.get(path.suffix)
        if content_type is None or not path.is_file():
            continue
        body = path.read_bytes()
        etag = b'"' + hashlib.sha256(body).hexdigest()[:32].encode() + b'"'
        cache = _REVALIDATE if path.name == INDEX else _IMMUTABLE
        assets[path.name] = Asset(body, gzip.compress(body, mtime=0), content_type, etag, cache)
    return assets


def _header(scope: Scope, wanted: bytes) -> bytes:
    for name, value in scope["headers"]:
        if name == wanted:
            return bytes(value)
    return b""


async def _plain(
    send: Send, status: int, text: bytes, extra: list[tuple[bytes, bytes]] | None = None
) -> None:
    headers = [
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"content-length", b"%d" % len(text)),
        *_SECURITY,
        *(extra or []),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": text})


class ConsoleApp:
    """GET and HEAD of /console/ (index.html) and the files it names; /console redirects there."""

    def __init__(self, assets: dict[str, Asset] | None = None) -> None:
        self.assets = load_assets() if assets is None else assets

    @staticmethod
    def serves(path: str) -> bool:
        return path == PREFIX or path.startswith(PREFIX + "/")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        method: str = scope["method"]
        path: str = scope["path"]
        if method not in ("GET", "HEAD"):
            await _plain(send, 405, b"method not allowed\n", [(b"allow", b"GET, HEAD")])
            return
        if path == PREFIX:
            await _plain(send, 308, b"", [(b"location", b"/console/")])
            return
        name = path[len(PREFIX) + 1 :] or INDEX
        asset = self.assets.get(name)
        if asset is None:
            text = b"not found\n" if self.assets else b"the console is not built: run make console\n"
            await _plain(send, 404, text)
            return
        await self._asset(scope, send, asset, method == "HEAD")

    async def _asset(self, scope: Scope, send: Send, asset: Asset, head: bool) -> None:
        headers = [
            (b"content-type", asset.content_type),
            (b"cache-control", asset.cache),
            (b"etag", asset.etag),
            (b"vary", b"accept-encoding"),
            *_SECURITY,
        ]
        if asset.etag in _header(scope, b"if-none-match").replace(b"W/", b"").split(b", "):
            await send({"type": "http.response.start", "status": 304, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return
        body = asset.body
        if b"gzip" in _header(scope, b"accept-encoding"):
            body = asset.gzipped
            headers.append((b"content-encoding", b"gzip"))
        headers.append((b"content-length", b"%d" % len(body)))
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"" if head else body})
