"""ConsoleService: the caller's session, the SMTP presets, and test emails that answer their report."""

from __future__ import annotations

from mailgate.api import status
from mailgate.api.zitadel.servicer import inline_test
from mailgate.gen.mailgate.v1 import console_pb2 as pb
from mailgate.gen.zitadel import admin_pb2
from mailgate.pipeline.runner import CallContext
from mailgate.providers.presets import PRESETS, SmtpPreset
from mailgate.providers.testmail import TestMailService


def preset(item: SmtpPreset) -> pb.SmtpPreset:
    """A catalogue entry as mailgate.v1.SmtpPreset."""
    return pb.SmtpPreset(
        id=item.id,
        name=item.name,
        host=item.host,
        tls=item.tls,
        auth=f"SMTP_PRESET_AUTH_{item.auth.value}",
        user_hint=item.user_hint,
        fixed_user=item.fixed_user,
        password_hint=item.password_hint,
        token_endpoint=item.token_endpoint,
        scopes=item.scopes,
        alternative_hosts=item.alternative_hosts,
        note=item.note,
    )


class ConsoleServicer:
    """The four RPCs of mailgate.v1.ConsoleService."""

    def __init__(self, tests: TestMailService) -> None:
        self._tests = tests
        self._presets = pb.ListSmtpPresetsResponse(presets=[preset(item) for item in PRESETS])

    async def GetConsoleSession(
        self, request: pb.GetConsoleSessionRequest, ctx: CallContext
    ) -> pb.GetConsoleSessionResponse:
        principal = ctx.principal
        return pb.GetConsoleSessionResponse(
            instance_id=principal.instance_id,
            permissions=sorted(principal.permissions),
            token_id=principal.token_id,
        )

    async def ListSmtpPresets(
        self, request: pb.ListSmtpPresetsRequest, ctx: CallContext
    ) -> pb.ListSmtpPresetsResponse:
        return self._presets

    async def TestSmtpSettings(
        self, request: pb.TestSmtpSettingsRequest, ctx: CallContext
    ) -> pb.TestSmtpSettingsResponse:
        # The same fields under the same numbers: read as ZITADEL's request (see console.proto).
        settings = admin_pb2.TestEmailProviderSMTPRequest.FromString(request.SerializeToString())
        report = await self._tests.test_inline(
            ctx.principal.instance_id, inline_test(settings), actor=ctx.actor
        )
        return pb.TestSmtpSettingsResponse(report=status.smtp_test_report(report))

    async def TestSmtpProvider(
        self, request: pb.TestSmtpProviderRequest, ctx: CallContext
    ) -> pb.TestSmtpProviderResponse:
        report = await self._tests.test_stored(
            ctx.principal.instance_id, request.id, request.receiver_address
        )
        return pb.TestSmtpProviderResponse(report=status.smtp_test_report(report))
