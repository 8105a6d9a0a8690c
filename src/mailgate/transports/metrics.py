"""`GET /metrics`: the process's Prometheus registry in the text exposition format.

Mounted on the HTTP port like /healthz: no token, no instance data beyond provider ids.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from starlette.types import Receive, Scope, Send

from mailgate.transports.http import MountedApp, respond

PATH = "/metrics"


class MetricsApp:
    """Answers GET and HEAD with the registry; `refresh` runs first (database-backed gauges), and
    `more` adds another process's families (the delivery child's counters)."""

    def __init__(
        self,
        registry: CollectorRegistry,
        refresh: Callable[[], Awaitable[None]],
        more: Callable[[], Awaitable[bytes]] | None = None,
    ) -> None:
        self._registry = registry
        self._refresh = refresh
        self._more = more

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        method: str = scope["method"]
        if scope["path"] != PATH:
            await respond(send, 404, b"not found\n", b"text/plain")
            return
        if method not in ("GET", "HEAD"):
            await respond(send, 405, b"method not allowed\n", b"text/plain", [(b"allow", b"GET, HEAD")])
            return
        await self._refresh()
        body = generate_latest(self._registry)
        if self._more is not None:
            body += await self._more()
        await respond(
            send, 200, b"" if method == "HEAD" else body, CONTENT_TYPE_LATEST.encode(), length=len(body)
        )


def metrics_mount(
    registry: CollectorRegistry,
    refresh: Callable[[], Awaitable[None]],
    more: Callable[[], Awaitable[bytes]] | None = None,
) -> MountedApp:
    """The metrics endpoint as the HTTP port mounts it."""
    return MountedApp(PATH, MetricsApp(registry, refresh, more))
