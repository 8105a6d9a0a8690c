"""Test emails: build what to send from a request or a stored provider, guard stored secrets, send."""

from __future__ import annotations

from dataclasses import dataclass

from mailgate.delivery.smtp import (
    JwtBearerAuth,
    PlainAuth,
    SmtpAuthMethod,
    SmtpTester,
    TestEmail,
    XOAuth2Auth,
)
from mailgate.errors import invalid, not_found, precondition
from mailgate.providers.commands import (
    CLIENT_SECRET_FIELD,
    PASSWORD_FIELD,
    PRIVATE_KEY_FIELD,
    check_header_fields,
    secret_context,
)
from mailgate.providers.inputs import AuthInput
from mailgate.providers.model import AuthKind, OAuthGrant, Provider, SmtpAuth, TokenEndpointAuth
from mailgate.providers.secret_rule import may_reuse_secret, secret_reentry_required
from mailgate.secrets import SecretBox
from mailgate.store.providers import ProviderRepository

MISSING_SENDER_ID = "MG-SENDER-MISSING"
# The secret_context field name of a JWT-bearer provider's sealed private key.


@dataclass(frozen=True)
class InlineTest:
    """A test of settings the admin is looking at, not (yet) saved; `provider_id` may lend its secret."""

    sender_address: str
    sender_name: str
    host: str
    tls: bool
    user: str
    receiver_address: str
    auth: AuthInput
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

    async def test_inline(self, instance_id: str, test: InlineTest) -> None:
        """Send through the request's settings; an empty secret plus an id may reuse the stored one."""
        if not test.receiver_address:
            raise invalid("SMTP-p9uy", "Email address for test not found")
        check_header_fields(sender_name=test.sender_name, sender_address=test.sender_address)
        kind = test.auth.kind
        if kind is None:  # older clients (and TestSMTPConfig): plain only when user or password is set
            kind = AuthKind.PLAIN if (test.user or test.auth.password) else AuthKind.NONE
        auth: SmtpAuthMethod | None = None
        from_store = False
        if kind is AuthKind.PLAIN:
            password = test.auth.password
            if not password:
                password, _ = await self._stored_secret(instance_id, test, AuthKind.PLAIN)
                from_store = True
            auth = PlainAuth(user=test.user, password=password)
        elif kind is AuthKind.XOAUTH2:
            secret = test.auth.client_secret
            # ZITADEL's request cannot say how to authenticate at the token endpoint: Basic, as
            # ZITADEL does, unless the stored secret is used, whose provider says how.
            method = TokenEndpointAuth.CLIENT_SECRET_BASIC
            if not secret:
                secret, stored = await self._stored_secret(instance_id, test, AuthKind.XOAUTH2)
                method = stored.token_endpoint_auth
                from_store = True
            auth = XOAuth2Auth(
                user=test.user,
                token_endpoint=test.auth.token_endpoint,
                scopes=test.auth.scopes,
                client_id=test.auth.client_id,
                client_secret=secret,
                token_endpoint_auth=method.value,
            )
        await self._tester.send_test(
            TestEmail(
                host=test.host.strip(),
                tls=test.tls,
                sender_address=test.sender_address.strip(),
                sender_name=test.sender_name,
                receiver_address=test.receiver_address,
                auth=auth,
                secret_from_store=from_store,
            )
        )

    async def test_stored(
        self, instance_id: str, provider_id: str, receiver_address: str, sender_address: str = ""
    ) -> None:
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
        await self._tester.send_test(
            TestEmail(
                host=smtp.host,
                tls=smtp.tls,
                sender_address=sender_address,
                sender_name=smtp.sender_name,
                receiver_address=receiver_address,
                auth=self._stored_auth(provider, smtp.user, smtp.auth),
                secret_from_store=smtp.auth.has_secret,
            )
        )

    async def _stored_secret(
        self, instance_id: str, test: InlineTest, kind: AuthKind
    ) -> tuple[str, SmtpAuth]:
        """The stored secret of `test.provider_id` and its auth, if the re-entry rule allows its use."""
        plain = kind is AuthKind.PLAIN
        if not test.provider_id:
            if plain:
                raise invalid("SMTP-p9kj", "Password for test not found")
            raise invalid("SMTP-9OP96s", "Client secret for test not found")
        missing_id = "SMTP-p9cc" if plain else "SMTP-p9c2"
        provider = await self._repo.get(instance_id, test.provider_id)
        if provider is None or provider.smtp is None or provider.smtp.auth.kind is not kind:
            raise not_found(missing_id)
        stored = provider.smtp.auth
        sealed = stored.password_sealed if plain else stored.client_secret_sealed
        if not sealed or (not plain and stored.grant is not OAuthGrant.CLIENT_CREDENTIALS):
            # A JWT-bearer provider has a private key, not a client secret a request could lend.
            raise not_found(missing_id)
        allowed = self._reuse_any_host or may_reuse_secret(
            provider.smtp, test.host, test.user, test.tls, test.auth.token_endpoint, test.auth.client_id
        )
        if not allowed:
            raise secret_reentry_required()
        field = PASSWORD_FIELD if plain else CLIENT_SECRET_FIELD
        return self._box.open(sealed, secret_context(instance_id, provider.id, field)), stored

    def _open(self, provider: Provider, sealed: str | None, field: str) -> str:
        """A sealed secret of `provider` in clear text ("" when none is stored)."""
        if not sealed:
            return ""
        return self._box.open(sealed, secret_context(provider.instance_id, provider.id, field))

    def _stored_auth(self, provider: Provider, user: str, auth: SmtpAuth) -> SmtpAuthMethod | None:
        if auth.kind is AuthKind.PLAIN:
            if not auth.password_sealed:
                return None  # a user without a password (older clients): the relay takes no AUTH
            return PlainAuth(user=user, password=self._open(provider, auth.password_sealed, PASSWORD_FIELD))
        if auth.kind is not AuthKind.XOAUTH2:
            return None
        if auth.grant is OAuthGrant.JWT_BEARER and auth.jwt is not None:
            bearer = auth.jwt
            return JwtBearerAuth(
                # XOAUTH2 logs in as the mailbox the grant impersonates.
                user=bearer.subject or user,
                token_endpoint=auth.token_endpoint,
                scopes=auth.scopes,
                client_id=auth.client_id,
                key_id=bearer.key_id,
                issuer=bearer.issuer,
                subject=bearer.subject,
                audience=bearer.audience,
                private_key=self._open(provider, bearer.private_key_sealed, PRIVATE_KEY_FIELD),
            )
        return XOAuth2Auth(
            user=user,
            token_endpoint=auth.token_endpoint,
            scopes=auth.scopes,
            client_id=auth.client_id,
            client_secret=self._open(provider, auth.client_secret_sealed, CLIENT_SECRET_FIELD),
            token_endpoint_auth=auth.token_endpoint_auth.value,
        )
