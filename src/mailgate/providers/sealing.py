"""How a provider's secrets are held: sealed for the store, opened (never shown) for the engine.

A sealed secret is AES-GCM text (mailgate.secrets) whose associated data binds it to its instance,
provider and field, so a sealed value copied to another provider or field does not open. The field
names are the `SECRET` class attributes of the shapes that hold a secret (providers.auth, model).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NewType

from mailgate.secrets import SecretBox

Sealed = NewType("Sealed", str)
HIDDEN = "[redacted]"


@dataclass(frozen=True)
class Secret:
    """A secret in clear text; its repr (and so its str, and any repr that contains it) never shows it."""

    value: str

    def __repr__(self) -> str:
        return HIDDEN


def secret_context(instance_id: str, provider_id: str, field: str) -> str:
    """Associated data binding a sealed secret to its instance, provider and field."""
    return f"{instance_id}/{provider_id}/{field}"


class ProviderSecrets:
    """Seals and opens the secrets of one provider, each bound to its field."""

    def __init__(self, box: SecretBox, instance_id: str, provider_id: str) -> None:
        self._box = box
        self._instance_id = instance_id
        self._provider_id = provider_id

    def seal(self, field: str, secret: Secret) -> Sealed:
        """`secret` sealed for this provider's `field`."""
        return Sealed(self._box.seal(secret.value, self._context(field)))

    def open(self, field: str, sealed: Sealed) -> Secret:
        """A value sealed for this provider's `field`, opened; SecretError if it was sealed for another."""
        return Secret(self._box.open(sealed, self._context(field)))

    def _context(self, field: str) -> str:
        return secret_context(self._instance_id, self._provider_id, field)
