"""Write side: every change to an instance's providers, each in one serialized transaction."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace

from mailgate.delivery.message import MessageTextError, header_text
from mailgate.errors import FieldViolation, InvalidArgument, invalid, not_found, precondition
from mailgate.history.actor import SYSTEM, Actor
from mailgate.hostport import parse_host_port
from mailgate.providers.auth import NoAuth, PlainAuth, StoredAuth, sealed
from mailgate.providers.inputs import SmtpInput, SmtpPatch, http_url, merged, public_texts, storable
from mailgate.providers.model import Change, HttpSettings, Provider, SmtpSettings, State
from mailgate.providers.patching import patched_auth, patched_host, pick
from mailgate.providers.recording import ProviderRecorder
from mailgate.providers.sealing import ProviderSecrets, Sealed, Secret
from mailgate.providers.secret_rule import secret_rule
from mailgate.secrets import SecretBox
from mailgate.store.providers import ProviderRepository, new_provider_id

_Apply = Callable[[Provider], Provider]
NUL_TEXT_ID = "MG-TEXT-NUL"
CONTROL_TEXT_ID = "MG-TEXT-CONTROL"


@dataclass(frozen=True)
class Written:
    """What a write did. Unless `changed`, it took no sequence and `change` is the provider's last."""

    change: Change
    provider: Provider
    changed: bool


def _check_text(*values: str) -> None:
    """Refuse what the store cannot hold, rather than fail inside it."""
    if not all(storable(value) for value in values):
        raise invalid(NUL_TEXT_ID, "Invalid argument: text must not contain NUL characters")


def check_header_fields(**fields: str) -> None:
    """Refuse text that email headers will carry (sender name and address, reply-to) when it, or an
    RFC 2047 encoded word in it, holds a control character; the error names the field."""
    for name, value in fields.items():
        try:
            header_text(value, name)
        except MessageTextError as exc:
            violation = FieldViolation(field=name, description=str(exc))
            raise InvalidArgument(CONTROL_TEXT_ID, f"Invalid argument: {exc}", [violation]) from None


def _check_smtp_input(data: SmtpInput, empty_sender_id: str | None, bad_host_id: str) -> None:
    """Text the store can hold, a sender (unless `empty_sender_id` is None) and a host:port."""
    _check_text(
        data.sender_address,
        data.sender_name,
        data.host,
        data.user,
        data.reply_to_address,
        data.description,
        *public_texts(data.auth),
    )
    if empty_sender_id is not None and not data.sender_address.strip():
        raise invalid(empty_sender_id, "Invalid argument")
    if parse_host_port(data.host.strip()) is None:
        raise invalid(bad_host_id, "Invalid argument: host must include a port, as host:port")


def _check_sender(data: SmtpInput) -> None:
    # Not on Okta's PATCH: it cannot set these, and a stored value must not block other edits.
    check_header_fields(
        sender_name=data.sender_name,
        sender_address=data.sender_address,
        reply_to_address=data.reply_to_address,
    )


def _check_endpoint(endpoint: str, description: str) -> None:
    _check_text(endpoint, description)
    if not http_url(endpoint.strip()):
        raise invalid("COMMAND-Sz84nFo3aK", "Invalid argument: endpoint must be an http or https URL")


class ProviderCommands:
    """Adds, updates, activates and removes providers; seals secrets on the way in."""

    def __init__(
        self, repo: ProviderRepository, box: SecretBox, allow_secret_reuse_any_host: bool = False
    ) -> None:
        self._repo = repo
        self._box = box
        self._reuse_any_host = allow_secret_reuse_any_host
        self._recorder = ProviderRecorder(box)

    # --- SMTP ---

    async def add_smtp(
        self, instance_id: str, data: SmtpInput, *, actor: Actor = SYSTEM
    ) -> tuple[Change, str]:
        """ZITADEL's Add: a new inactive provider, which must have a sender address."""
        _check_smtp_input(data, "COMMAND-SAAFpV8VKV", "COMMAND-EvAtufIinh")
        _check_sender(data)
        change, provider = await self._insert_smtp(instance_id, data, activate=False, actor=actor)
        return change, provider.id

    async def create_smtp(
        self, instance_id: str, data: SmtpInput, *, activate: bool = False, actor: Actor = SYSTEM
    ) -> Provider:
        """Okta's create: any auth variant, no sender address needed, active at once when `activate`."""
        _check_smtp_input(data, None, "COMMAND-EvAtufIinh")
        _check_sender(data)
        _, provider = await self._insert_smtp(instance_id, data, activate=activate, actor=actor)
        return provider

    async def _insert_smtp(
        self, instance_id: str, data: SmtpInput, activate: bool, actor: Actor
    ) -> tuple[Change, Provider]:
        provider_id = new_provider_id()
        auth = sealed(merged(data.auth, data.user, None), self._secrets(instance_id, provider_id))
        async with self._repo.write(instance_id) as tx:
            change = await tx.begin_change()
            others = await tx.deactivate_others(provider_id, change) if activate else []
            provider = Provider(
                instance_id=instance_id,
                id=provider_id,
                state=State.ACTIVE if activate else State.INACTIVE,
                description=data.description.strip(),
                creation_sequence=change.sequence,
                sequence=change.sequence,
                created_at=change.at,
                changed_at=change.at,
                smtp=self._smtp_settings(data, auth),
            )
            await tx.insert(provider)
            drafts = [self._recorder.added(provider)]
            if activate:
                drafts += [self._recorder.state(other, active=False) for other in others]
                drafts.append(self._recorder.state(provider_id, active=True))
            await tx.record(actor, drafts)
        return change, provider

    async def update_smtp(
        self, instance_id: str, provider_id: str, data: SmtpInput, *, actor: Actor = SYSTEM
    ) -> Change:
        _check_smtp_input(data, "COMMAND-gyPUXOTA4N", "COMMAND-kZNVkuL32L")
        _check_sender(data)

        def apply(current: Provider) -> Provider:
            if current.smtp is None:
                raise not_found("COMMAND-j5IDFtt3T1")
            auth = self._merged_auth(current, data)
            return replace(
                current, description=data.description.strip(), smtp=self._smtp_settings(data, auth)
            )

        return await self._change(instance_id, provider_id, "COMMAND-j5IDFtt3T1", apply, actor)

    async def set_smtp_password(
        self, instance_id: str, provider_id: str, password: str, *, actor: Actor = SYSTEM
    ) -> Change:
        """Set (or, when empty, clear) the plain password of any SMTP provider, active or not."""

        def apply(current: Provider) -> Provider:
            if current.smtp is None:
                raise precondition("MG-NOT-SMTP", "the provider is an HTTP provider and has no password")
            auth: StoredAuth = current.smtp.auth
            if password:
                auth = sealed(PlainAuth(password=Secret(password)), self._secrets(instance_id, provider_id))
            elif isinstance(auth, PlainAuth):  # cleared: plain without a password while a user is set
                auth = PlainAuth(password=None) if current.smtp.user else NoAuth()
            return replace(current, smtp=replace(current.smtp, auth=auth))

        return await self._change(instance_id, provider_id, "COMMAND-rDHzqjGuKQ", apply, actor)

    async def patch_smtp(
        self, instance_id: str, provider_id: str, patch: SmtpPatch, *, actor: Actor = SYSTEM
    ) -> Provider:
        """Okta's PATCH: change only what `patch` gives; a stored secret never follows a new destination.

        Changing host, port, user, token endpoint or client id needs the secret again (decision
        9.6); `enabled` activates or deactivates, and is no error when the provider already is so.
        """

        def apply(current: Provider) -> Provider:
            if current.smtp is None:
                raise not_found("COMMAND-j5IDFtt3T1")
            smtp = current.smtp
            data = SmtpInput(
                sender_address=smtp.sender_address,
                sender_name=smtp.sender_name,
                host=patched_host(smtp.host, patch.host, patch.port),
                tls=smtp.tls,
                user=pick(patch.user, smtp.user),
                reply_to_address=smtp.reply_to_address,
                description=pick(patch.description, current.description),
                auth=patched_auth(smtp.auth, patch.auth),
            )
            _check_smtp_input(data, None, "COMMAND-kZNVkuL32L")
            auth = self._merged_auth(current, data)
            state = current.state
            if patch.enabled is not None:
                state = State.ACTIVE if patch.enabled else State.INACTIVE
            return replace(
                current,
                state=state,
                description=data.description.strip(),
                smtp=self._smtp_settings(data, auth),
            )

        written = await self._write(instance_id, provider_id, "COMMAND-j5IDFtt3T1", apply, actor)
        return written.provider

    # --- HTTP ---

    async def add_http(
        self, instance_id: str, endpoint: str, description: str, *, actor: Actor = SYSTEM
    ) -> tuple[Change, str, str]:
        """Add an HTTP provider; returns its new signing key, shown this once."""
        _check_endpoint(endpoint, description)
        provider_id = new_provider_id()
        key = secrets.token_urlsafe(32)
        sealed_key = self._signing_key(instance_id, provider_id, key)
        async with self._repo.write(instance_id) as tx:
            change = await tx.begin_change()
            provider = Provider(
                instance_id=instance_id,
                id=provider_id,
                state=State.INACTIVE,
                description=description.strip(),
                creation_sequence=change.sequence,
                sequence=change.sequence,
                created_at=change.at,
                changed_at=change.at,
                http=HttpSettings(endpoint=endpoint.strip(), signing_key_sealed=sealed_key),
            )
            await tx.insert(provider)
            await tx.record(actor, [self._recorder.added(provider)])
        return change, provider_id, key

    async def update_http(
        self,
        instance_id: str,
        provider_id: str,
        endpoint: str,
        description: str,
        rotate_key: bool,
        *,
        actor: Actor = SYSTEM,
    ) -> tuple[Change, str | None]:
        """Replace endpoint and description; with `rotate_key` a new key replaces the old at once."""
        _check_endpoint(endpoint, description)
        new_key = secrets.token_urlsafe(32) if rotate_key else None

        def apply(current: Provider) -> Provider:
            if current.http is None:
                raise not_found("COMMAND-xIrdledqv4")
            sealed_key = current.http.signing_key_sealed
            if new_key is not None:
                sealed_key = self._secrets(instance_id, provider_id).seal(
                    HttpSettings.SECRET, Secret(new_key)
                )
            http = HttpSettings(endpoint=endpoint.strip(), signing_key_sealed=sealed_key)
            return replace(current, description=description.strip(), http=http)

        change = await self._change(instance_id, provider_id, "COMMAND-xIrdledqv4", apply, actor)
        return change, new_key

    # --- state ---

    async def activate(self, instance_id: str, provider_id: str, *, actor: Actor = SYSTEM) -> Change:
        """Make the provider the instance's one active provider, deactivating any other."""

        def apply(current: Provider) -> Provider:
            if current.is_active:
                raise precondition("COMMAND-vUHBSmBzaw", "SMTP configuration already active")
            return replace(current, state=State.ACTIVE)

        return await self._change(instance_id, provider_id, "COMMAND-E9K20hxOS9", apply, actor)

    async def deactivate(self, instance_id: str, provider_id: str, *, actor: Actor = SYSTEM) -> Change:
        """Leave the instance without an active provider (allowed)."""

        def apply(current: Provider) -> Provider:
            if not current.is_active:
                raise precondition("COMMAND-km8g3", "SMTP configuration already deactivated")
            return replace(current, state=State.INACTIVE)

        return await self._change(instance_id, provider_id, "COMMAND-k39PJ", apply, actor)

    async def remove(
        self, instance_id: str, provider_id: str, *, smtp_only: bool = False, actor: Actor = SYSTEM
    ) -> Change:
        """Delete the provider, active or not; an instance may be left with none active.

        With `smtp_only` an HTTP provider is as unknown as a made-up id (Okta's API sees only SMTP).
        """
        async with self._repo.write(instance_id) as tx:
            change = await tx.begin_change()
            current = await tx.get(provider_id)
            if current is None or (smtp_only and current.smtp is None):
                raise not_found("COMMAND-09CXlTDL6w")
            await tx.delete(provider_id)
            await tx.record(actor, [self._recorder.removed(current)])
        return change

    # --- helpers ---

    async def _change(
        self, instance_id: str, provider_id: str, not_found_id: str, apply: _Apply, actor: Actor
    ) -> Change:
        return (await self._write(instance_id, provider_id, not_found_id, apply, actor)).change

    async def _write(
        self, instance_id: str, provider_id: str, not_found_id: str, apply: _Apply, actor: Actor
    ) -> Written:
        """Load, apply, and save when something changed; an unchanged provider keeps its details.

        A provider `apply` makes active first deactivates any other, in the same transaction.
        """
        async with self._repo.write(instance_id) as tx:
            await tx.lock()
            current = await tx.get(provider_id)
            if current is None:
                raise not_found(not_found_id)
            updated = apply(current)
            if updated == current:
                last = Change(current.sequence, current.changed_at, instance_id)
                return Written(last, current, changed=False)
            change = await tx.begin_change()
            others: list[str] = []
            if updated.is_active and not current.is_active:
                others = await tx.deactivate_others(provider_id, change)
            updated = replace(updated, sequence=change.sequence, changed_at=change.at)
            await tx.save(updated)
            drafts = [self._recorder.state(other, active=False) for other in others]
            await tx.record(actor, drafts + self._recorder.changed(current, updated))
        return Written(change, updated, changed=True)

    def _smtp_settings(self, data: SmtpInput, auth: StoredAuth) -> SmtpSettings:
        return SmtpSettings(
            sender_address=data.sender_address.strip(),
            sender_name=data.sender_name,
            host=data.host.strip(),
            tls=data.tls,
            user=data.user,
            reply_to_address=data.reply_to_address.strip(),
            auth=auth,
        )

    def _merged_auth(self, current: Provider, data: SmtpInput) -> StoredAuth:
        """The auth an update leaves behind; a kept secret must pass the re-entry rule."""
        assert current.smtp is not None
        auth = merged(data.auth, data.user, current.smtp.auth)
        secret_rule(current.smtp, data.host, data.user, data.tls, auth, allow_any_host=self._reuse_any_host)
        return sealed(auth, self._secrets(current.instance_id, current.id))

    def _secrets(self, instance_id: str, provider_id: str) -> ProviderSecrets:
        return ProviderSecrets(self._box, instance_id, provider_id)

    def _signing_key(self, instance_id: str, provider_id: str, key: str) -> Sealed:
        return self._secrets(instance_id, provider_id).seal(HttpSettings.SECRET, Secret(key))
