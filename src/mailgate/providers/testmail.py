"""Test emails: build what to send from a request or a stored provider, guard stored secrets, send."""

from __future__ import annotations

from dataclasses import dataclass, replace

from mailgate.delivery.report import TestReport
from mailgate.delivery.smtp import SmtpTester, TestEmail
from mailgate.errors import TestFailed, invalid, not_found, precondition
from mailgate.history.actor import SYSTEM, Actor
from mailgate.history.events import TESTED, Draft
from mailgate.providers.auth import (
    ClientCredentials,
    MergedAuth,
    NoAuth,
    PlainAuth,
    SmtpAuth,
    carries_stored_secret,
    opened,
    with_kept_secret,
)
from mailgate.providers.commands import check_header_fields
from mailgate.providers.inputs import AuthRequest, requested
from mailgate.providers.sealing import ProviderSecrets
from mailgate.providers.secret_rule import secret_rule
from mailgate.secrets import SecretBox
from mailgate.store.providers import ProviderRepository

MISSING_SENDER_ID = "MG-SENDER-MISSING"


@dataclass(frozen=True)
class InlineTest:
    """A test of settings the admin is looking at, not (yet) saved; `provider_id` may lend its secret."""

    sender_address: str
    sender_name: str
    host: str
    tls: bool
    user: str
    receiver_address: str
    auth: AuthRequest
    provider_id: str = ""


class TestMailService:
    """Sends test emails through inline or stored SMTP settings."""

    __test__ = False  # not a pytest test class, despite the name

    def __init__(
        self, repo: ProviderRepository, box: SecretBox, tester: SmtpTester, allow_secret_reuse_any_host: bool
    ) -> None:
        self._repo = repo
        self._box = box
        self._tester = tester
        self._reuse_any_host = allow_secret_reuse_any_host

    async def _send(self, instance_id: str, provider_id: str, actor: Actor, email: TestEmail) -> TestReport:
        """Send, and record that a test was sent: its result class and stage only (no address,
        no reply text), in a transaction of its own after the test; the report."""
        try:
            report = await self._tester.send_test(email)
        except TestFailed as failed:
            await self._record(instance_id, provider_id, actor, "failed", failed.stage.value)
            raise
        await self._record(instance_id, provider_id, actor, "sent", "done")
        return report

    async def _record(
        self, instance_id: str, provider_id: str, actor: Actor, result: str, stage: str
    ) -> None:
        payload = {"id": provider_id, "result": result, "stage": stage}
        async with self._repo.write(instance_id) as tx:
            await tx.record(actor, [Draft(TESTED, provider_id, payload)])

    async def test_inline(self, instance_id: str, test: InlineTest, *, actor: Actor = SYSTEM) -> TestReport:
        """Test the request's settings (an empty secret plus an id may reuse the stored one); the report."""
        if not test.receiver_address:
            raise invalid("SMTP-p9uy", "Email address for test not found")
        check_header_fields(sender_name=test.sender_name, sender_address=test.sender_address)
        # Read as on Add (no stored provider to go by); a secret left empty is borrowed below.
        wanted = requested(test.auth, test.user, None)
        auth = with_kept_secret(wanted, None)
        if not isinstance(auth, NoAuth) and auth.secret is None:
            auth = await self._borrowed(instance_id, test, wanted)
        secrets = ProviderSecrets(self._box, instance_id, test.provider_id)
        return await self._send(
            instance_id,
            test.provider_id,
            actor,
            TestEmail(
                host=test.host.strip(),
                tls=test.tls,
                sender_address=test.sender_address.strip(),
                sender_name=test.sender_name,
                receiver_address=test.receiver_address,
                user=test.user,
                auth=opened(auth, secrets),
                secret_from_store=carries_stored_secret(auth),
            ),
        )

    async def test_stored(
        self,
        instance_id: str,
        provider_id: str,
        receiver_address: str,
        sender_address: str = "",
        *,
        actor: Actor = SYSTEM,
    ) -> TestReport:
        """Send through a stored SMTP provider, active or not, with its stored secrets.

        `sender_address` replaces the stored sender (Okta's test names its own `fromAddress`).
        """
        if not provider_id:
            raise invalid("SMTP-99oki", "ID missing")
        if not receiver_address:
            raise invalid("SMTP-99yth", "Email address for test not found")
        provider = await self._repo.get(instance_id, provider_id)
        if provider is None or provider.smtp is None:
            raise not_found("SMTP-99klw")
        smtp = provider.smtp
        sender_address = sender_address or smtp.sender_address
        if not sender_address:
            raise precondition(
                MISSING_SENDER_ID,
                "the provider has no sender address: set sender_address with UpdateEmailProviderSMTP first",
            )
        return await self._send(
            instance_id,
            provider.id,
            actor,
            TestEmail(
                host=smtp.host,
                tls=smtp.tls,
                sender_address=sender_address,
                sender_name=smtp.sender_name,
                receiver_address=receiver_address,
                user=smtp.user,
                auth=opened(smtp.auth, ProviderSecrets(self._box, instance_id, provider.id)),
                secret_from_store=smtp.auth.secret is not None,
            ),
        )

    async def _borrowed(self, instance_id: str, test: InlineTest, wanted: SmtpAuth[str]) -> MergedAuth:
        """`wanted` with the stored secret of `test.provider_id`, if the re-entry rule allows its use."""
        plain = isinstance(wanted, PlainAuth)
        if not test.provider_id:
            if plain:
                raise invalid("SMTP-p9kj", "Password for test not found")
            raise invalid("SMTP-9OP96s", "Client secret for test not found")
        provider = await self._repo.get(instance_id, test.provider_id)
        stored = provider.smtp if provider is not None else None
        auth = with_kept_secret(wanted, stored.auth if stored is not None else None)
        # Lent only by a provider of the variant asked for: a JWT-bearer one has no client secret.
        if stored is None or not carries_stored_secret(auth):
            raise not_found("SMTP-p9cc" if plain else "SMTP-p9c2")
        if isinstance(auth, ClientCredentials) and isinstance(stored.auth, ClientCredentials):
            # The secret is used the way its provider authenticates at the token endpoint.
            auth = replace(auth, token_endpoint_auth=stored.auth.token_endpoint_auth)
        secret_rule(stored, test.host, test.user, test.tls, auth, allow_any_host=self._reuse_any_host)
        return auth
