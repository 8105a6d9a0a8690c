"""A stored provider as the engine sends through it: its secrets opened, as test emails open them."""

from __future__ import annotations

from mailgate.delivery.sending import DeliveryTarget, HttpTarget, SmtpTarget
from mailgate.providers.auth import opened
from mailgate.providers.model import HttpSettings
from mailgate.providers.sealing import ProviderSecrets, Sealed, Secret
from mailgate.secrets import SecretBox
from mailgate.store.providers import ProviderRepository


class Targets:
    """Loads providers (from the repository's short cache) and opens their secrets for one attempt."""

    def __init__(self, repo: ProviderRepository, box: SecretBox) -> None:
        self._repo = repo
        self._box = box

    async def target(self, instance_id: str, provider_id: str) -> DeliveryTarget | None:
        """The provider ready to send through; None when it no longer exists.

        Raises SecretError when a stored secret cannot be opened (a master key no longer given).
        """
        provider = await self._repo.get(instance_id, provider_id)
        if provider is None:
            return None
        secrets = ProviderSecrets(self._box, instance_id, provider_id)
        if provider.smtp is not None:
            return SmtpTarget(provider_id, provider.smtp, opened(provider.smtp.auth, secrets))
        assert provider.http is not None  # a provider is SMTP or HTTP
        sealed = provider.http.signing_key_sealed
        key = Secret("") if sealed is None else secrets.open(HttpSettings.SECRET, Sealed(sealed))
        return HttpTarget(provider_id, provider.http.endpoint, key)
