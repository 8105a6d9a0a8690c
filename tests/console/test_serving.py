"""/console/ on the HTTP port: the built assets from the package, with the headers a browser needs."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import httpx

from mailgate.transports.console import STATIC
from tests.fixtures.servers import RunningServer

BUDGET = 300 * 1024  # gzipped JavaScript


def _script_name() -> str:
    [name] = [path.name for path in STATIC.glob("main-*.js")]
    return name


def test_the_bundle_is_under_its_budget() -> None:
    size = len(gzip.compress((STATIC / _script_name()).read_bytes(), 9))
    print(f"console JS: {size / 1024:.1f} KiB gzipped")
    assert size < BUDGET


async def test_index_and_assets_are_served_with_a_strict_policy(server: RunningServer) -> None:
    async with httpx.AsyncClient(base_url=server.http_base) as http:
        redirect = await http.get("/console")
        index = await http.get("/console/")
        script = await http.get(f"/console/{_script_name()}")
        again = await http.get(
            f"/console/{_script_name()}", headers={"if-none-match": script.headers["etag"]}
        )
        missing = await http.get("/console/nothing.js")
        post = await http.post("/console/")
    assert (redirect.status_code, redirect.headers["location"]) == (308, "/console/")
    assert index.status_code == 200
    assert index.headers["content-type"] == "text/html; charset=utf-8"
    policy = index.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy
    assert index.headers["x-content-type-options"] == "nosniff"
    assert index.headers["cache-control"] == "no-cache"
    # No inline script: the page only names the bundle, from this origin.
    assert re.findall(r"<script[^>]*>", index.text) == [f'<script type="module" src="{_script_name()}">']
    assert script.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert script.headers["content-type"].startswith("text/javascript")
    assert script.headers["content-encoding"] == "gzip"
    assert again.status_code == 304
    assert missing.status_code == 404
    assert (post.status_code, post.headers["allow"]) == (405, "GET, HEAD")


def test_the_console_never_parses_text_as_html() -> None:
    """Everything the API returns reaches the page as text: no HTML sinks in the console's source."""
    source = Path(__file__).resolve().parents[2] / "console" / "src"
    sinks = re.compile(
        r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|DOMParser|createContextualFragment"
    )
    found = [
        f"{path.relative_to(source)}: {line.strip()}"
        for path in source.rglob("*.ts")
        if "gen" not in path.relative_to(source).parts
        for line in path.read_text().splitlines()
        if sinks.search(line)
    ]
    assert found == []
