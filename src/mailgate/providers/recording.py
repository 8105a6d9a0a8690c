"""A provider change as history events: ZITADEL's types and payload names, non-secret fields with
old and new values, and each secret set as a keyed fingerprint (never the secret, never sealed)."""

from __future__ import annotations

from mailgate.history import events as ev
from mailgate.history.events import Draft, FieldChange, Json, SecretSet
from mailgate.providers.auth import ClientCredentials, JwtBearer
from mailgate.providers.model import HttpSettings, Provider
from mailgate.providers.sealing import ProviderSecrets, Sealed
from mailgate.secrets import SecretBox

_XOAUTH2 = "xoauth2Auth."  # ZITADEL's payload object for XOAUTH2 settings; flattened for the diff


def public_fields(provider: Provider) -> dict[str, Json]:
    """Every non-secret field under its payload name; XOAUTH2 settings as "xoauth2Auth.<name>"."""
    fields: dict[str, Json] = {"id": provider.id, "description": provider.description}
    if provider.http is not None:
        fields["endpoint"] = provider.http.endpoint
        return fields
    smtp = provider.smtp
    assert smtp is not None
    fields.update(
        senderAddress=smtp.sender_address,
        senderName=smtp.sender_name,
        replyToAddress=smtp.reply_to_address,
        tls=smtp.tls,
        host=smtp.host,
        user=smtp.user,
        authType=smtp.auth.KIND,
    )
    match smtp.auth:
        case ClientCredentials():
            auth = smtp.auth
            fields.update(
                {
                    _XOAUTH2 + "clientId": auth.client_id,
                    _XOAUTH2 + "tokenEndpoint": auth.token_endpoint,
                    _XOAUTH2 + "tokenEndpointAuth": auth.token_endpoint_auth.value,
                    _XOAUTH2 + "scopes": list(auth.scopes),
                }
            )
        case JwtBearer():
            jwt = smtp.auth
            fields.update(
                {
                    _XOAUTH2 + "clientId": jwt.client_id,
                    _XOAUTH2 + "tokenEndpoint": jwt.token_endpoint,
                    _XOAUTH2 + "signingAlgorithm": jwt.signing_algorithm,
                    _XOAUTH2 + "keyId": jwt.key_id,
                    _XOAUTH2 + "issuer": jwt.issuer,
                    _XOAUTH2 + "subject": jwt.subject,
                    _XOAUTH2 + "audience": jwt.audience,
                    _XOAUTH2 + "scopes": list(jwt.scopes),
                }
            )
    return fields


def _nested(fields: dict[str, Json]) -> dict[str, Json]:
    """Flat "a.b" names as the payload carries them: {"a": {"b": ...}}."""
    payload: dict[str, Json] = {}
    for name, value in fields.items():
        head, dot, rest = name.partition(".")
        if dot:
            payload.setdefault(head, {})[rest] = value
        else:
            payload[name] = value
    return payload


def _secret(provider: Provider | None) -> tuple[str, Sealed | None]:
    """The provider's one secret field and its sealed value ("", None when it has none)."""
    if provider is None:
        return "", None
    if provider.http is not None:
        key = provider.http.signing_key_sealed
        return HttpSettings.SECRET, None if key is None else Sealed(key)
    assert provider.smtp is not None
    auth = provider.smtp.auth
    return auth.SECRET, auth.secret


class ProviderRecorder:
    """Builds the events of provider changes; fingerprints under a key derived from the master key."""

    def __init__(self, box: SecretBox) -> None:
        self._box = box

    def fingerprint(self, instance_id: str, field: str, plaintext: str) -> str:
        """Equal for the same secret of the same field and instance; reveals nothing of it."""
        return self._box.digest(plaintext.encode(), f"history/{instance_id}/{field}")

    def _secrets(self, before: Provider | None, after: Provider) -> tuple[SecretSet, ...]:
        """The secret `after` holds, when the change set it (or cleared it: empty fingerprint)."""
        old_field, old = _secret(before)
        field, new = _secret(after)
        if new == old and field == old_field:
            return ()
        if new is None:
            return (SecretSet(old_field or field, ""),) if old is not None else ()
        opened = ProviderSecrets(self._box, after.instance_id, after.id).open(field, new)
        return (SecretSet(field, self.fingerprint(after.instance_id, field, opened.value)),)

    def added(self, provider: Provider) -> Draft:
        fields = public_fields(provider)
        return Draft(
            type=ev.HTTP_ADDED if provider.http is not None else ev.SMTP_ADDED,
            provider_id=provider.id,
            payload=_nested(fields),
            changes=tuple(FieldChange(name, None, value) for name, value in fields.items()),
            secrets=self._secrets(None, provider),
        )

    def changed(self, before: Provider, after: Provider) -> list[Draft]:
        """The edit's events: changed fields and secret (ZITADEL's password.changed when only the
        SMTP password changed), then activation or deactivation."""
        drafts: list[Draft] = []
        old, new = public_fields(before), public_fields(after)
        diff = tuple(
            FieldChange(name, old.get(name), new.get(name))
            for name in dict.fromkeys([*old, *new])
            if old.get(name) != new.get(name)
        )
        secrets = self._secrets(before, after)
        if diff or secrets:
            is_http = after.http is not None
            kind = ev.HTTP_CHANGED if is_http else ev.SMTP_CHANGED
            if not diff and not is_http:
                kind = ev.SMTP_PASSWORD_CHANGED
            changed = {c.field: c.new for c in diff if c.new is not None}
            payload = _nested({"id": after.id, **changed})
            drafts.append(Draft(kind, after.id, payload, diff, secrets))
        if after.is_active != before.is_active:
            drafts.append(self.state(after.id, active=after.is_active))
        return drafts

    @staticmethod
    def state(provider_id: str, *, active: bool) -> Draft:
        return Draft(ev.ACTIVATED if active else ev.DEACTIVATED, provider_id, {"id": provider_id})

    @staticmethod
    def removed(provider: Provider) -> Draft:
        return Draft(ev.REMOVED, provider.id, {"id": provider.id})
