"""The auth union: only valid states, secrets that never show, and ZITADEL's two request rules."""

from __future__ import annotations

from dataclasses import fields

import pytest

from mailgate.api.okta.bodies import OKTA_NAMES
from mailgate.providers.auth import (
    ClientCredentials,
    JwtBearer,
    NoAuth,
    PlainAuth,
    StoredAuth,
    TokenEndpointAuth,
    field_names,
    opened,
    sealed,
    with_kept_secret,
)
from mailgate.providers.inputs import AuthPatch, LegacyAuth, ZitadelXOAuth2, merged
from mailgate.providers.sealing import ProviderSecrets, Sealed, Secret
from mailgate.secrets import SecretBox, SecretError

BASIC = TokenEndpointAuth.CLIENT_SECRET_BASIC
POST = TokenEndpointAuth.CLIENT_SECRET_POST
BOX = SecretBox(b"k" * 32)
VARIANTS = (PlainAuth, ClientCredentials, JwtBearer)


def client_credentials(secret: object, method: TokenEndpointAuth = POST) -> ClientCredentials[object]:
    return ClientCredentials("client", secret, "https://login.example.com/token", method, ("smtp",))


def jwt_bearer(key: object) -> JwtBearer[object]:
    claims = ("kid-1", "svc@example.iam", "mailer@example.com", "https://oauth2.googleapis.com/token")
    return JwtBearer("client", "https://oauth2.googleapis.com/token", "RS256", *claims, ("mail",), key)


def stored(auth: object, secrets: ProviderSecrets) -> StoredAuth:
    """`auth` (with a clear secret) as the store holds it."""
    return sealed(with_kept_secret(auth, None), secrets)  # type: ignore[arg-type]


def test_a_variant_holds_only_its_own_fields() -> None:
    with pytest.raises(TypeError):
        PlainAuth(password="pw", client_id="client")  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        ClientCredentials("client", "s", "https://t", BASIC, (), private_key="k")  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        NoAuth(password="pw")  # type: ignore[call-arg]


WITH_SECRETS = [PlainAuth("pw-Sup3r-S3cret"), client_credentials("cs-Sup3r"), jwt_bearer("-----BEGIN KEY")]


@pytest.mark.parametrize("auth", WITH_SECRETS)
def test_the_engine_form_never_shows_its_secret(auth: PlainAuth[str]) -> None:
    secrets = ProviderSecrets(BOX, "instance", "provider")
    engine = opened(stored(auth, secrets), secrets)
    secret = auth.secret
    assert engine.secret == Secret(secret)
    for shown in (repr(engine), str(engine), f"{engine}", f"{engine.secret}", repr(stored(auth, secrets))):
        assert secret not in shown
    assert "[redacted]" in repr(engine)


@pytest.mark.parametrize("index", range(len(WITH_SECRETS)))
def test_a_sealed_secret_opens_only_for_its_provider_and_field(index: int) -> None:
    auth = WITH_SECRETS[index]
    mine = ProviderSecrets(BOX, "instance", "provider")
    kept = stored(auth, mine)
    assert opened(kept, mine).secret == Secret(auth.secret)
    with pytest.raises(SecretError):
        opened(kept, ProviderSecrets(BOX, "instance", "another-provider"))
    other = WITH_SECRETS[(index + 1) % len(WITH_SECRETS)]
    moved = other.with_secret(kept.secret)  # the same sealed text under another field
    with pytest.raises(SecretError):
        opened(moved, mine)


def test_a_plain_auth_without_password_sends_no_auth() -> None:
    assert opened(PlainAuth(password=None), ProviderSecrets(BOX, "i", "p")) == NoAuth()


def test_an_empty_secret_keeps_only_the_stored_one_of_the_same_variant() -> None:
    kept = Sealed("v1:sealed")
    assert with_kept_secret(PlainAuth(""), PlainAuth(kept)) == PlainAuth(kept)
    assert with_kept_secret(PlainAuth("new"), PlainAuth(kept)) == PlainAuth(Secret("new"))
    assert with_kept_secret(client_credentials(""), PlainAuth(kept)) == client_credentials(None)
    assert with_kept_secret(jwt_bearer(""), client_credentials(kept)) == jwt_bearer(None)


@pytest.mark.parametrize(
    ("user", "password", "meant"),
    [("", "", NoAuth()), ("mailer", "", PlainAuth(None)), ("", "pw", PlainAuth(Secret("pw")))],
)
def test_legacy_auth_on_add_is_plain_only_with_a_user_or_password(
    user: str, password: str, meant: object
) -> None:
    assert merged(LegacyAuth(password), user, None) == meant


def test_legacy_auth_on_update_switches_to_plain_with_a_password_else_keeps_the_auth() -> None:
    cc = client_credentials(Sealed("v1:sealed"))
    assert merged(LegacyAuth(""), "mailer", cc) == cc
    assert merged(LegacyAuth(""), "mailer", NoAuth()) == NoAuth()
    assert merged(LegacyAuth("pw"), "mailer", cc) == PlainAuth(Secret("pw"))


def test_zitadel_xoauth2_keeps_what_its_request_cannot_say() -> None:
    request = ZitadelXOAuth2("client-2", "", "https://login2.example.com/token", ("smtp",))
    new = merged(request, "mailer", None)
    assert isinstance(new, ClientCredentials) and new.token_endpoint_auth is BASIC and new.secret is None
    kept = merged(request, "mailer", client_credentials(Sealed("v1:cs")))
    assert isinstance(kept, ClientCredentials)
    assert (kept.token_endpoint_auth, kept.secret, kept.client_id) == (POST, "v1:cs", "client-2")
    # A JWT-bearer provider read back and sent without a client secret stays one, claims and key kept.
    jwt = jwt_bearer(Sealed("v1:key"))
    still = merged(request, "mailer", jwt)
    assert isinstance(still, JwtBearer) and (still.subject, still.private_key) == (jwt.subject, "v1:key")
    assert (still.client_id, still.token_endpoint) == ("client-2", "https://login2.example.com/token")
    switched = merged(ZitadelXOAuth2("client-2", "cs-2", "https://t", ()), "mailer", jwt)
    assert isinstance(switched, ClientCredentials) and switched.token_endpoint_auth is BASIC


def test_every_field_of_every_variant_can_be_patched_and_named_by_okta() -> None:
    patchable = {field.name for field in fields(AuthPatch)} - {"variant"}
    names = {name for variant in VARIANTS for name in field_names(variant)}
    assert names == patchable == set(OKTA_NAMES)
