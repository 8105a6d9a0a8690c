"""Notifications through a served mailgate to an aiosmtpd server offering PIPELINING (RFC 2920), as
the big providers do: the pipelined envelope delivers, to several recipients too, and a bad mailbox
still fails at once."""

from __future__ import annotations

from mailgate.gen.mailgate.v1 import smtp_test_report_pb2 as report_pb
from tests.e2e.conftest import Serve
from tests.e2e.tenant import classes, state_name
from tests.fixtures.smtp import SmtpServer, unique

STAGE = report_pb.SmtpTestStage


async def test_notifications_go_through_a_server_offering_pipelining(
    serve: Serve, mailboxes: dict[str, SmtpServer]
) -> None:
    tenant = await serve()
    server = mailboxes["pipelining"]
    await tenant.smtp_provider(server.host, active=True)

    ann = unique("ann")
    sent = await tenant.settled((await tenant.send(ann)).id)
    assert state_name(sent.state) == "sent"
    assert server.message(ann)["Subject"] == "Verify your email"

    bob, carol = unique("bob"), unique("carol")
    queued = await tenant.platform.send(
        to=[bob, "reject@example.com", carol], subject="Verify your email", text_body="Your code is 1."
    )
    several = await tenant.settled(queued.id)
    assert state_name(several.state) == "sent"
    [envelope] = server.received(bob)
    assert envelope.rcpt_tos == [bob, carol]  # the refused one is named in the attempt
    assert "refused: reject@example.com (550 5.1.1" in several.last_attempt.detail

    bad = await tenant.settled((await tenant.send("reject@example.com")).id)
    assert (state_name(bad.state), classes(bad)) == ("failed", ["permanent"])
    assert (bad.last_attempt.stage, bad.last_attempt.reply_code) == (STAGE.SMTP_TEST_STAGE_RCPT_TO, 550)
