"""mailgate.v1.ConsoleService over gRPC: the session, the preset catalogue, tests that answer a report."""

from __future__ import annotations

import grpc
import pytest

from mailgate.gen.mailgate.v1 import console_pb2 as pb
from mailgate.gen.mailgate.v1 import console_pb2_grpc
from mailgate.gen.mailgate.v1 import smtp_test_report_pb2 as report_pb
from mailgate.gen.zitadel import admin_pb2
from tests.fixtures.credentials import PASSWORD, USER
from tests.fixtures.rpc import caller, failure, plain
from tests.fixtures.servers import RunningServer
from tests.fixtures.smtp import SmtpServer, unique

DONE = report_pb.SMTP_TEST_STAGE_DONE
AUTH = report_pb.SMTP_TEST_STAGE_AUTH


def _stub(server: RunningServer) -> console_pb2_grpc.ConsoleServiceStub:
    return console_pb2_grpc.ConsoleServiceStub(server.channel)


async def test_the_session_names_the_tokens_instance_and_permissions(server: RunningServer) -> None:
    record, token = await server.services.tokens.create(server.instance, "iam.read")
    answer = await _stub(server).GetConsoleSession(
        pb.GetConsoleSessionRequest(), metadata=(("authorization", f"Bearer {token}"),)
    )
    assert (answer.instance_id, list(answer.permissions), answer.token_id) == (
        server.instance,
        ["email.status", "events.read", "iam.read"],
        record.id,
    )


async def test_a_send_token_has_no_console_session(server: RunningServer) -> None:
    denied = await failure(
        _stub(server).GetConsoleSession(
            pb.GetConsoleSessionRequest(), metadata=await server.metadata("email.send")
        )
    )
    assert denied.code == grpc.StatusCode.PERMISSION_DENIED


async def test_the_catalogue_holds_the_spec_presets(server: RunningServer) -> None:
    answer = await _stub(server).ListSmtpPresets(
        pb.ListSmtpPresetsRequest(), metadata=await server.metadata("iam.read")
    )
    hosts = {preset.name: preset.host for preset in answer.presets}
    assert hosts["Amazon SES"] == "email-smtp.us-east-2.amazonaws.com:587"
    assert hosts["Mailgun"] == "smtp.mailgun.org:465"
    assert hosts["Brevo"] == "smtp-relay.sendinblue.com:465"
    assert {"Resend", "SparkPost", "Zoho Mail", "Google (service account, XOAUTH2)"} <= set(hosts)
    by_id = {preset.id: preset for preset in answer.presets}
    assert by_id["sendgrid"].fixed_user == "apikey"
    assert by_id["outlook"].auth == pb.SMTP_PRESET_AUTH_XOAUTH2_CLIENT_CREDENTIALS
    assert list(by_id["outlook"].scopes) == ["https://outlook.office.com/SMTP.Send"]
    assert by_id["google-jwt"].auth == pb.SMTP_PRESET_AUTH_XOAUTH2_JWT_BEARER
    assert len(by_id["aws-ses"].alternative_hosts) > 10
    assert answer.presets[-1].id == "generic"


def test_the_test_request_is_zitadels_field_for_field() -> None:
    ours = pb.TestSmtpSettingsRequest(
        sender_address="a@example.com",
        sender_name="A",
        tls=True,
        host="smtp.example.com:587",
        user="u",
        receiver_address="b@example.com",
        id="42",
        xoauth2=pb.SmtpTestXOAuth2Auth(
            token_endpoint="https://t.example.com/token",
            scopes=["s1", "s2"],
            client_credentials=pb.SmtpTestXOAuth2Auth.ClientCredentials(client_id="c", client_secret="x"),
        ),
    )
    theirs = admin_pb2.TestEmailProviderSMTPRequest.FromString(ours.SerializeToString())
    assert theirs.host == "smtp.example.com:587" and theirs.receiver_address == "b@example.com"
    assert theirs.id == "42" and theirs.tls and theirs.user == "u"
    assert theirs.xoauth2.client_credentials.client_secret == "x"
    assert list(theirs.xoauth2.scopes) == ["s1", "s2"]


async def test_unsaved_and_stored_tests_answer_their_report(
    mail_server: RunningServer, mailboxes: dict[str, SmtpServer]
) -> None:
    server, sink = mail_server, mailboxes["plain"]
    metadata = await server.metadata("iam.write")
    receiver = unique()
    settings = pb.TestSmtpSettingsRequest(
        sender_address="console@example.com",
        sender_name="Console",
        host=sink.host,
        user=USER,
        receiver_address=receiver,
        plain=pb.SmtpTestPlainAuth(password=PASSWORD),
    )
    answer = await _stub(server).TestSmtpSettings(settings, metadata=metadata)
    assert answer.report.stage == DONE
    assert [step.stage for step in answer.report.steps][-1] in (report_pb.SMTP_TEST_STAGE_QUIT, DONE)
    assert PASSWORD not in "\n".join(answer.report.transcript)
    assert len(sink.received(receiver)) == 1

    provider = await (await caller(server)).add_smtp(host=sink.host, user=USER, plain=plain(PASSWORD))
    stored = await _stub(server).TestSmtpProvider(
        pb.TestSmtpProviderRequest(id=provider, receiver_address=receiver), metadata=metadata
    )
    assert stored.report.stage == DONE

    # An empty password with the provider's id borrows the stored one (the secret rule allows it).
    settings.plain.password = ""
    settings.id = provider
    borrowed = await _stub(server).TestSmtpSettings(settings, metadata=metadata)
    assert borrowed.report.stage == DONE


async def test_a_failed_test_is_zitadels_error_with_the_report(
    mail_server: RunningServer, mailboxes: dict[str, SmtpServer]
) -> None:
    server, sink = mail_server, mailboxes["plain"]
    settings = pb.TestSmtpSettingsRequest(
        sender_address="console@example.com",
        sender_name="Console",
        host=sink.host,
        user=USER,
        receiver_address=unique(),
        plain=pb.SmtpTestPlainAuth(password="wrong"),
    )
    failed = await failure(
        _stub(server).TestSmtpSettings(settings, metadata=await server.metadata("iam.write"))
    )
    [report] = failed.details(report_pb.SmtpTestReport)
    assert report.stage == AUTH and report.reply_code == 535


@pytest.mark.parametrize("rpc", ["TestSmtpSettings", "TestSmtpProvider"])
async def test_a_read_only_token_may_not_test(server: RunningServer, rpc: str) -> None:
    request = pb.TestSmtpSettingsRequest() if rpc == "TestSmtpSettings" else pb.TestSmtpProviderRequest()
    denied = await failure(getattr(_stub(server), rpc)(request, metadata=await server.metadata("iam.read")))
    assert denied.code == grpc.StatusCode.PERMISSION_DENIED
