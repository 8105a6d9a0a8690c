"""The console as an admin uses it, in Chromium: what the page shows after each step."""

from __future__ import annotations

from playwright.async_api import Page, expect

from tests.console.conftest import BROWSER_TESTS, DESKTOP, PHONE, first_render_ms, screenshot, sign_in
from tests.fixtures.credentials import CLIENT_ID, CLIENT_SECRET, PASSWORD, SCOPE, USER
from tests.fixtures.network import LOCAL
from tests.fixtures.oauth import TokenEndpoint
from tests.fixtures.rpc import caller, plain
from tests.fixtures.servers import RunningServer
from tests.fixtures.smtp import SmtpServer, unique

pytestmark = BROWSER_TESTS


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


async def test_add_from_a_preset_test_it_and_activate_it(
    page: Page, console_server: RunningServer, mailboxes: dict[str, SmtpServer]
) -> None:
    server = console_server
    sink = mailboxes["plain"]
    admin = await caller(server)
    current = await admin.add_smtp(description="Old relay", host="smtp.example.com:587")
    await admin.activate(current)
    await sign_in(page, server, await server.token("iam.write"))
    await page.get_by_role("button", name="Add SMTP provider").click()
    form = page.get_by_role("dialog")
    await form.get_by_label("Preset").select_option(label="SendGrid")
    await expect(form.get_by_label("Host and port")).to_have_value("smtp.sendgrid.net:465")
    await expect(form.get_by_label("User", exact=True)).to_have_value("apikey")
    await form.get_by_label("Description").fill("Sink")
    await form.get_by_label("Host and port").fill(sink.host)
    await form.get_by_label("TLS (implicit or STARTTLS, required)").uncheck()
    await form.get_by_label("User", exact=True).fill(USER)
    await form.get_by_label("Password").fill(PASSWORD)
    await form.get_by_label("Sender address").fill("console@example.com")
    await form.get_by_label("Sender name").fill("Console")
    receiver = unique("console")
    await form.get_by_label("To", exact=True).fill(receiver)
    await form.get_by_role("button", name="Send test email").click()
    result = form.get_by_test_id("timeline")
    await expect(result.get_by_role("status")).to_contain_text("Accepted in")
    stages = result.locator("ol.timeline li .stage")
    await expect(stages).to_contain_text(
        ["Connect", "Greeting", "EHLO", "AUTH", "MAIL FROM", "RCPT TO", "DATA"]
    )
    await expect(result.locator("li[data-stage=EHLO]")).to_contain_text("AUTH")
    await expect(result.locator("li[data-stage=DATA]")).to_contain_text("250")
    await result.get_by_text("Transcript (redacted)").click()
    transcript = await result.locator("pre.transcript").inner_text()
    assert "AUTH" in transcript and PASSWORD not in transcript
    assert len(sink.received(receiver)) == 1
    await screenshot(page, "test-passed", result.locator("li[data-stage=EHLO]"))
    await form.get_by_role("button", name="Add provider").click()
    await expect(form).to_be_hidden()
    row = page.locator("tr", has_text="Sink")
    await expect(row).to_contain_text(f"{sink.host}")
    await expect(row).to_contain_text("password")

    await row.get_by_role("button", name="Test").click()
    dialog = page.get_by_role("dialog")
    await expect(dialog).to_contain_text("From console@example.com")
    await dialog.get_by_role("button", name="Send test email").click()
    await expect(dialog.get_by_test_id("timeline").get_by_role("status")).to_contain_text("Accepted in")
    await dialog.get_by_role("button", name="Close").click()
    await expect(row.get_by_test_id("last-test")).to_have_text("passed")

    await row.get_by_role("button", name="Activate").click()
    confirm = page.get_by_role("dialog")
    await expect(confirm).to_contain_text("Old relay is the active provider now")
    await confirm.get_by_role("button", name="Activate").click()
    await expect(row).to_contain_text("active")
    await expect(page.locator("tr", has_text="Old relay")).to_contain_text("inactive")
    await screenshot(page, "providers")
    await page.set_viewport_size(PHONE)
    await screenshot(page, "providers-phone")
    await page.set_viewport_size(DESKTOP)

    await row.get_by_role("button", name="Deactivate").click()
    confirm = page.get_by_role("dialog")
    await expect(confirm).to_contain_text("Sink is the active provider")
    await confirm.get_by_role("button", name="Cancel").click()  # nothing changes
    await expect(row.get_by_role("button", name="Deactivate")).to_be_visible()

    old = page.locator("tr", has_text="Old relay")
    await old.get_by_role("button", name="Remove").click()
    confirm = page.get_by_role("dialog")
    await expect(confirm).to_contain_text("cannot be undone")
    await confirm.get_by_role("button", name="Remove").click()
    await expect(old).to_have_count(0)
    assert len((await admin.listing()).result) == 1


async def test_a_failing_test_shows_its_stage_and_a_hint(
    page: Page, console_server: RunningServer, mailboxes: dict[str, SmtpServer], closed_port: int
) -> None:
    server = console_server
    sink = mailboxes["plain"]
    await sign_in(page, server, await server.token("iam.write"))
    await page.get_by_role("button", name="Add SMTP provider").click()
    form = page.get_by_role("dialog")
    await form.get_by_label("Preset").select_option(label="Other SMTP server")
    await form.get_by_label("TLS (implicit or STARTTLS, required)").uncheck()
    await form.get_by_label("User", exact=True).fill(USER)
    await form.get_by_label("Password").fill("wrong-password")
    await form.get_by_label("Sender address").fill("console@example.com")
    await form.get_by_label("Sender name").fill("Console")
    await form.get_by_label("To", exact=True).fill(unique("console"))
    test = form.get_by_role("button", name="Send test email")
    result = form.get_by_test_id("timeline")

    await form.get_by_label("Host and port").fill(f"127.0.0.1:{closed_port}")
    await test.click()
    await expect(result.get_by_role("status")).to_contain_text("Failed at Connect")
    await expect(result.locator("li.failed .stage")).to_have_text("Connect")
    await expect(result.get_by_test_id("hint")).to_contain_text("Nothing accepts connections on port")
    await expect(form.get_by_role("alert")).to_contain_text("(")  # the server's message with its id

    await form.get_by_label("Host and port").fill(sink.host)
    await test.click()
    await expect(result.get_by_role("status")).to_contain_text("Failed at AUTH")
    await expect(result.locator("li.failed")).to_contain_text("535")
    await expect(result.get_by_test_id("hint")).to_contain_text("refused the user name or password")
    await screenshot(page, "test-failed", result)
    await result.get_by_text("Transcript (redacted)").click()
    assert "wrong-password" not in await result.locator("pre.transcript").inner_text()

    # Over STARTTLS the timeline names the TLS version and the certificate the server showed.
    await form.get_by_label("Host and port").fill(mailboxes["starttls"].host)
    await form.get_by_label("TLS (implicit or STARTTLS, required)").check()
    await form.get_by_label("Password").fill(PASSWORD)
    await test.click()
    await expect(result.get_by_role("status")).to_contain_text("Accepted in")
    starttls = result.locator("li[data-stage=STARTTLS]")
    await expect(starttls).to_contain_text("TLS established: TLSv1.")
    await expect(starttls).to_contain_text("certificate subject")
    await expect(result).to_contain_text("TLS STARTTLS")


async def test_edit_keeps_a_set_secret_until_it_is_replaced(
    page: Page, console_server: RunningServer, mailboxes: dict[str, SmtpServer]
) -> None:
    server = console_server
    sink = mailboxes["plain"]
    admin = await caller(server)
    await admin.add_smtp(description="Sink", host=sink.host, tls=False, user=USER, plain=plain(PASSWORD))
    await sign_in(page, server, await server.token("iam.write"))
    row = page.locator("tr", has_text="Sink")
    await row.get_by_role("button", name="Edit").click()
    form = page.get_by_role("dialog")
    await expect(form.locator(".secret-set")).to_have_text("set")
    await expect(form.locator("input[type=password]:visible")).to_have_count(0)  # never a masked value
    # A line break hidden in an encoded word passes the form and is refused by the server, per field.
    await form.get_by_label("Sender name").fill("=?utf-8?q?Evil=0D=0ABcc:_x@example.com?=")
    await form.get_by_role("button", name="Save").click()
    await expect(form.get_by_role("alert")).to_contain_text("MG-")
    sender_error = form.locator("#" + await form.get_by_label("Sender name").get_attribute("id") + "-error")
    await expect(sender_error).not_to_be_empty()
    await form.get_by_label("Sender name").fill("Renamed")
    await form.get_by_role("button", name="Save").click()
    await expect(row).to_contain_text("Renamed <noreply@example.com>")

    await row.get_by_role("button", name="Test").click()
    dialog = page.get_by_role("dialog")
    await dialog.get_by_label("To").fill(unique("edit"))
    await dialog.get_by_role("button", name="Send test email").click()
    await expect(dialog.get_by_test_id("timeline").get_by_role("status")).to_contain_text("Accepted")
    await dialog.get_by_role("button", name="Close").click()

    await row.get_by_role("button", name="Edit").click()
    form = page.get_by_role("dialog")
    await form.get_by_role("button", name="Password is set: replace it").click()
    await expect(form.get_by_label("Password")).to_be_focused()
    await page.keyboard.type("not-the-password")
    await form.get_by_role("button", name="Save").click()
    await expect(form).to_be_hidden()
    await row.get_by_role("button", name="Test").click()
    dialog = page.get_by_role("dialog")
    await dialog.get_by_role("button", name="Send test email").click()  # the address is remembered
    await expect(dialog.get_by_test_id("timeline").get_by_role("status")).to_contain_text("Failed at AUTH")
    await dialog.get_by_role("button", name="Close").click()
    await expect(row.get_by_test_id("last-test")).to_contain_text("failed at AUTH (535 5.7.8)")


async def test_an_xoauth2_preset_tests_with_client_credentials(
    page: Page,
    console_server: RunningServer,
    mailboxes: dict[str, SmtpServer],
    token_endpoint: TokenEndpoint,
) -> None:
    server = console_server
    await sign_in(page, server, await server.token("iam.write"))
    await page.get_by_role("button", name="Add SMTP provider").click()
    form = page.get_by_role("dialog")
    await form.get_by_label("Preset").select_option(label="Microsoft Exchange Online")
    await expect(form.get_by_label("Method")).to_have_value("xoauth2")
    await expect(form.get_by_label("Scopes")).to_have_value("https://outlook.office.com/SMTP.Send")
    await expect(form.get_by_label("Password")).to_be_hidden()
    # The JWT-bearer preset says where it is made instead of offering a form that cannot make it.
    await form.get_by_label("Preset").select_option(label="Google (service account, XOAUTH2)")
    await expect(form).to_contain_text("Email Servers API")
    await expect(form.get_by_role("button", name="Add provider")).to_be_disabled()
    await form.get_by_label("Preset").select_option(label="Microsoft Exchange Online")
    await expect(form.get_by_role("button", name="Add provider")).to_be_enabled()
    await form.get_by_label("Host and port").fill(mailboxes["plain"].host)
    await form.get_by_label("TLS (implicit or STARTTLS, required)").uncheck()
    await form.get_by_label("User", exact=True).fill(USER)
    await form.get_by_label("Token endpoint").fill(token_endpoint.url(LOCAL))
    await form.get_by_label("Scopes").fill(SCOPE)
    await form.get_by_label("Client id").fill(CLIENT_ID)
    await form.get_by_label("Client secret").fill(CLIENT_SECRET)
    await form.get_by_label("Sender address").fill("console@example.com")
    await form.get_by_label("Sender name").fill("Console")
    await form.get_by_label("To", exact=True).fill(unique("oauth"))
    await form.get_by_role("button", name="Send test email").click()
    result = form.get_by_test_id("timeline")
    await expect(result.get_by_role("status")).to_contain_text("Accepted in")
    await expect(result).to_contain_text("AUTH XOAUTH2")
    await form.get_by_role("button", name="Add provider").click()
    await expect(page.locator("tbody tr")).to_contain_text("XOAUTH2 (client credentials)")
