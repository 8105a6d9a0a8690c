"""The console's messages and fallbacks, a read-only token, a keyboard-only pass, a revoked token,
and a server that cannot be reached, in Chromium against a real mailgate."""

from __future__ import annotations

from playwright.async_api import Page, expect

from mailgate.gen.mailgate.v1 import delivery_pb2 as pb
from mailgate.gen.mailgate.v1 import delivery_pb2_grpc
from tests.console.conftest import BROWSER_TESTS, screenshot, sign_in
from tests.fixtures.credentials import PASSWORD, USER
from tests.fixtures.rpc import Admin, caller, plain, smtp_update
from tests.fixtures.servers import RunningServer
from tests.fixtures.smtp import SmtpServer, unique

pytestmark = BROWSER_TESTS


async def _sink_provider(admin: Admin, sink: SmtpServer, description: str = "Sink") -> str:
    provider = await admin.add_smtp(
        description=description, host=sink.host, tls=False, user=USER, plain=plain(PASSWORD)
    )
    await admin.activate(provider)
    return provider


async def _send(server: RunningServer, to: str, subject: str) -> str:
    stub = delivery_pb2_grpc.DeliveryServiceStub(server.channel)
    request = pb.SendEmailRequest(to=[to], subject=subject, text_body="Hello from the console test")
    sent = await stub.SendEmail(request, metadata=await server.metadata("email.send"))
    return str(sent.message.id)


async def test_messages_show_their_state_attempts_and_take_retry_and_cancel(
    page: Page, console_server: RunningServer, mailboxes: dict[str, SmtpServer]
) -> None:
    server = console_server
    await _sink_provider(await caller(server), mailboxes["plain"])
    await sign_in(page, server, await server.token("iam.write"))
    await page.get_by_role("link", name="Messages").click()
    await _send(server, unique("welcome"), "Welcome aboard")
    await _send(server, "reject@example.com", "Refused one")
    await _send(server, unique("drop"), "Dropped one")
    sent = page.locator("tr", has_text="Welcome aboard")
    await expect(sent.locator("[data-state]")).to_have_text("sent")
    await expect(page.locator("tr", has_text="Refused one").locator("[data-state]")).to_have_text("failed")
    await expect(page.locator("tr", has_text="Dropped one").locator("[data-state]")).to_have_text("deferred")
    await screenshot(page, "messages")

    await page.get_by_label("failed").check()
    await expect(page.locator("tbody tr")).to_have_count(1)
    await page.get_by_label("failed").uncheck()

    await sent.get_by_role("button", name="Welcome aboard").click()
    dialog = page.get_by_role("dialog")
    attempt = dialog.locator("section.attempt")
    await expect(attempt).to_contain_text("Attempt 1")
    await expect(attempt.get_by_test_id("timeline").get_by_role("status")).to_contain_text("Accepted")
    await expect(attempt.locator("li[data-stage=DATA]")).to_contain_text("250")
    await screenshot(page, "message")
    await dialog.get_by_role("button", name="Close").click()

    await page.get_by_role("button", name="Refused one").click()
    dialog = page.get_by_role("dialog")
    await expect(dialog.locator("li.failed")).to_contain_text("550")
    await dialog.get_by_role("button", name="Retry message").click()
    await page.get_by_role("dialog", name="Retry this message?").get_by_role("button", name="Retry").click()
    await expect(dialog.locator("section.attempt")).to_have_count(2)
    await dialog.get_by_role("button", name="Close").click()

    await page.get_by_role("button", name="Dropped one").click()
    dialog = page.get_by_role("dialog")
    await dialog.get_by_role("button", name="Cancel message").click()
    await (
        page.get_by_role("dialog", name="Cancel this message?")
        .get_by_role("button", name="Cancel")
        .first.click()
    )
    await expect(dialog.locator("[data-state]")).to_have_text("canceled")


async def test_the_fallback_order_is_set_and_saved(page: Page, console_server: RunningServer) -> None:
    server = console_server
    admin = await caller(server)
    first = await admin.add_smtp(description="Backup one")
    second = await admin.add_smtp(description="Backup two")
    await sign_in(page, server, await server.token("iam.write"))
    await page.get_by_role("link", name="Fallbacks").click()
    await expect(page.get_by_text("No fallbacks.")).to_be_visible()
    for name in ("Backup one", "Backup two"):
        await page.get_by_label("Provider").select_option(label=name)
        await page.get_by_role("button", name="Add to fallbacks").click()
    await page.get_by_role("button", name="Move Backup two up").click()
    await page.get_by_role("button", name="Save order").click()
    await expect(page.get_by_role("status")).to_have_text("Fallback order saved.")
    stub = delivery_pb2_grpc.DeliveryServiceStub(server.channel)
    stored = await stub.GetDeliveryFallbacks(pb.GetDeliveryFallbacksRequest(), metadata=admin.metadata)
    assert list(stored.provider_ids) == [second, first]
    await expect(page.locator("ol.fallbacks li .name")).to_have_text(["Backup two", "Backup one"])


async def test_a_read_only_token_sees_no_write_action(
    page: Page, console_server: RunningServer, mailboxes: dict[str, SmtpServer]
) -> None:
    server = console_server
    admin = await caller(server)
    await _sink_provider(admin, mailboxes["plain"])
    await admin.add_http(description="Webhook")
    await _send(server, "reject@example.com", "Refused one")
    for number in range(50):
        await _send(server, unique("bulk"), f"Bulk {number}")
    await sign_in(page, server, await server.token("iam.read"))
    await expect(page.get_by_test_id("session")).to_contain_text("read-only")
    await expect(page.locator("tr", has_text="Webhook")).to_be_visible()
    writes = ["Add SMTP provider", "Add HTTP provider", "Test", "Edit", "Activate", "Deactivate", "Remove"]
    for name in writes:
        await expect(page.get_by_role("button", name=name, exact=True)).to_have_count(0)
    await page.get_by_role("link", name="Messages").click()
    await expect(page.locator("tbody tr")).to_have_count(50)  # one page, newest first
    await page.get_by_role("button", name="Older messages").click()
    await expect(page.locator("tbody tr")).to_have_count(51)
    await expect(page.get_by_role("button", name="Older messages")).to_be_hidden()
    row = page.locator("tr", has_text="Refused one")
    await expect(row.locator("[data-state]")).to_have_text("failed")
    await row.get_by_role("button", name="Refused one").click()
    dialog = page.get_by_role("dialog")
    await expect(dialog.locator("section.attempt")).to_have_count(1)
    await expect(dialog.get_by_role("button", name="Retry message")).to_have_count(0)
    await dialog.get_by_role("button", name="Close").click()
    await page.get_by_role("link", name="Fallbacks").click()
    await expect(page.get_by_text("No fallbacks.")).to_be_visible()
    await expect(page.get_by_role("button", name="Save order")).to_have_count(0)


async def _focused(page: Page) -> str:
    return str(await page.evaluate("document.activeElement.name || document.activeElement.textContent"))


async def test_the_add_form_works_from_the_keyboard_alone(page: Page, console_server: RunningServer) -> None:
    server = console_server
    await page.goto(f"{server.http_base}/console/")
    await page.keyboard.type(await server.token("iam.write"))  # the token field has the focus
    await page.keyboard.press("Enter")
    await expect(page.get_by_test_id("instance")).to_have_text(server.instance)
    add = page.get_by_role("button", name="Add SMTP provider")
    for _ in range(12):
        if await add.evaluate("button => button === document.activeElement"):
            break
        await page.keyboard.press("Tab")
    await page.keyboard.press("Enter")
    await expect(page.get_by_label("Preset")).to_be_focused()  # once the catalogue has arrived
    await page.keyboard.press("End")  # the generic preset, last
    entries = [
        ("description", "Typed"),
        ("host", "smtp.example.com"),  # no port: caught before sending
        ("tls", None),
        ("auth", None),
        ("user", "typed@example.com"),
        ("", "pw-typed"),  # the password field
        ("sender_address", "typed@example.com"),
        ("sender_name", "Typed"),
    ]
    for name, text in entries:
        await page.keyboard.press("Tab")
        if name:
            assert await _focused(page) == name
        if text:
            await page.keyboard.type(text)
    await page.keyboard.press("Enter")  # submits the form
    host = page.get_by_label("Host and port")
    await expect(host).to_be_focused()
    await expect(page.get_by_role("dialog")).to_contain_text("Include the port")
    await page.keyboard.type(":2525")
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("dialog")).to_have_count(0)
    await expect(page.locator("tr", has_text="Typed")).to_contain_text("smtp.example.com:2525")
    await page.get_by_role("button", name="Add HTTP provider").focus()
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("dialog")).to_be_visible()
    await page.keyboard.press("Escape")  # a dialog closes without the mouse
    await expect(page.get_by_role("dialog")).to_have_count(0)


async def test_a_revoked_token_returns_to_sign_in_with_the_reason(
    page: Page, console_server: RunningServer
) -> None:
    server = console_server
    record, token = await server.services.tokens.create(server.instance, "iam.write")
    await sign_in(page, server, token)
    await server.services.tokens.revoke(record.id)
    server.services.authenticator.forget()  # this process's cache, as a revocation NOTIFY does
    await page.get_by_role("link", name="Messages").click()
    await expect(page.get_by_role("status")).to_contain_text("Signed out: token unknown or revoked")
    await expect(page.get_by_label("Token")).to_be_visible()
    assert await page.evaluate("sessionStorage.getItem('mailgate.console.token')") is None


async def test_a_server_out_of_reach_shows_a_banner_and_keeps_the_form(
    page: Page, console_server: RunningServer
) -> None:
    server = console_server
    await sign_in(page, server, await server.token("iam.write"))
    await page.get_by_role("button", name="Add HTTP provider").click()
    dialog = page.get_by_role("dialog")
    await dialog.get_by_label("Endpoint").fill("https://mail.example.com/send")
    await page.route("**/zitadel.admin.v1.AdminService/**", lambda route: route.abort())
    await dialog.get_by_role("button", name="Add provider").click()
    banner = page.locator("#banner")
    await expect(banner).to_contain_text("mailgate cannot be reached")
    await expect(dialog.get_by_label("Endpoint")).to_have_value("https://mail.example.com/send")
    await page.unroute("**/zitadel.admin.v1.AdminService/**")
    await dialog.get_by_role("button", name="Add provider").click()
    await expect(dialog.get_by_test_id("signing-key")).not_to_be_empty()
    await expect(banner).to_be_hidden()


async def test_a_providers_history_shows_who_changed_what(page: Page, console_server: RunningServer) -> None:
    server = console_server
    admin = await caller(server)
    provider = await admin.add_smtp(description="Relay", user=USER, plain=plain(PASSWORD))
    await admin("UpdateEmailProviderSMTP", smtp_update(provider, description="Relay two", user=USER))
    await admin.add_smtp(description="Other")
    await sign_in(page, server, await server.token("iam.read"))
    await page.get_by_role("link", name="History of Relay two").click()
    assert page.url.endswith(f"#/history?provider={provider}")
    await expect(page.get_by_label("Show")).to_have_value(provider)
    rows = page.locator("table.history tbody tr")
    await expect(rows).to_have_count(2)  # newest first, this provider's only
    await expect(rows.nth(0)).to_contain_text("instance.smtp.config.changed")
    await expect(rows.nth(0)).to_contain_text('description: "Relay" → "Relay two"')
    await expect(rows.nth(0)).to_contain_text("· grpc")  # who: the token and its transport
    await expect(rows.nth(1)).to_contain_text("instance.smtp.config.added")
    await expect(rows.nth(1)).to_contain_text("password: changed")
    assert PASSWORD not in await page.locator("main").inner_text()
    await screenshot(page, "history")
    await page.get_by_label("Show").select_option(label="Every provider and change")
    await expect(page.locator("table.history tbody tr", has_text="Other")).to_have_count(1)
