"""The console in Debian's Chromium (headless, through Playwright's async API, never a downloaded
browser) against a real mailgate with delivery workers and the local SMTP sinks."""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from playwright.async_api import Browser, Locator, Page, async_playwright, expect

from tests.fixtures.servers import RunningServer, start_server

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
expect.set_options(timeout=10_000)


@pytest.fixture
def backend() -> str:
    """The console tests run on SQLite only: the API tests cover both stores."""
    return "sqlite"


# The browser tests share one event loop, so that they share one Playwright driver and
# one Chromium (starting them is most of a test's time); each test has its own server and context.
BROWSER_TESTS = pytest.mark.asyncio(loop_scope="package")


@pytest_asyncio.fixture(loop_scope="package")
async def console_server(
    settings_env: dict[str, str], mail_env: dict[str, str]
) -> AsyncIterator[RunningServer]:
    """mailgate reaching the local sinks, with a delivery worker so that messages move."""
    running = await start_server({**settings_env, **mail_env, "MAILGATE_DELIVERY_WORKERS": "1"})
    yield running
    await running.close()


@pytest_asyncio.fixture(scope="package", loop_scope="package")
async def browser() -> AsyncIterator[Browser]:
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is missing (apt-get install -y chromium); CI installs it")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield launched
        await launched.close()


@pytest_asyncio.fixture(loop_scope="package")
async def page(browser: Browser) -> AsyncIterator[Page]:
    context = await browser.new_context(viewport=DESKTOP)
    opened = await context.new_page()
    yield opened
    await context.close()


async def sign_in(page: Page, server: RunningServer, token: str) -> None:
    await page.goto(f"{server.http_base}/console/")
    await page.get_by_label("Token").fill(token)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_test_id("instance")).to_have_text(server.instance)


async def first_render_ms(page: Page, server: RunningServer) -> float:
    """Milliseconds from navigation to the sign-in form being usable (measured, never asserted)."""
    started = time.perf_counter()
    await page.goto(f"{server.http_base}/console/")
    await expect(page.get_by_label("Token")).to_be_focused()
    return (time.perf_counter() - started) * 1000


async def screenshot(page: Page, name: str, focus: Locator | None = None) -> None:
    """docs/screenshots/<name>.png, when MAILGATE_UPDATE_SCREENSHOTS=1 (`make screenshots`), with
    `focus` scrolled into view."""
    if os.environ.get("MAILGATE_UPDATE_SCREENSHOTS") == "1":
        if focus is not None:
            await focus.scroll_into_view_if_needed()
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))
