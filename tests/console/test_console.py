"""The console as an admin uses it, in Chromium: what the page shows after each step."""

from __future__ import annotations

from playwright.async_api import Page, expect

from tests.console.conftest import first_render_ms, screenshot, sign_in
from tests.fixtures.rpc import caller
from tests.fixtures.servers import RunningServer


async def test_sign_in_shows_the_instance_permissions_and_providers(
    page: Page, console_server: RunningServer
) -> None:
    server = console_server
    admin = await caller(server)
    await admin.add_smtp(description="Relay", host="smtp.example.com:587", tls=True)
    print(f"console first screen: {await first_render_ms(page, server):.0f} ms")
    await screenshot(page, "sign-in")
    await sign_in(page, server, await server.token("iam.write"))
    await expect(page.get_by_test_id("permissions")).to_contain_text("iam.write")
    row = page.locator("tr", has_text="Relay")
    await expect(row).to_contain_text("inactive")
    await expect(row).to_contain_text("SMTP")
    await expect(row).to_contain_text("smtp.example.com:587 (TLS)")
    await expect(row).to_contain_text("Example <noreply@example.com>")
    await expect(row).to_contain_text("not tested")
    # The token lives in this tab's sessionStorage only, never in the URL or localStorage.
    assert "mgt_" not in page.url
    assert await page.evaluate("localStorage.length") == 0
    assert (await page.evaluate("sessionStorage.getItem('mailgate.console.token')")).startswith("mgt_")


async def test_a_bad_token_is_refused_with_the_servers_reason(
    page: Page, console_server: RunningServer
) -> None:
    await page.goto(f"{console_server.http_base}/console/")
    await page.get_by_label("Token").fill("mgt_not-a-token")
    await page.get_by_role("button", name="Sign in").click()
    alert = page.get_by_role("alert")
    await expect(alert).to_contain_text("token unknown or revoked")
    await expect(alert).to_contain_text("MG-AUTH-INVALID")
