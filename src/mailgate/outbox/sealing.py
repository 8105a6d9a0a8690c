"""A message's subject and bodies as the store holds them: sealed, each bound to its message and field.

The associated data names the instance, the message and the field (`<instance>/messages/<id>/text`),
so a sealed body copied to another message or field does not open, and never opens as a
provider's secret (whose context has no `messages` part).
"""

from __future__ import annotations

from mailgate.outbox.model import Bodies
from mailgate.providers.sealing import Sealed
from mailgate.secrets import SecretBox

SUBJECT = "subject"  # messages.subject_sealed
TEXT = "text"  # messages.text_sealed
HTML = "html"  # messages.html_sealed
FIELDS = (SUBJECT, TEXT, HTML)


def message_context(instance_id: str, message_id: str, field: str) -> str:
    """Associated data binding a sealed text to its instance, message and field."""
    return f"{instance_id}/messages/{message_id}/{field}"


class MessageSecrets:
    """Seals and opens the subject and bodies of one message."""

    def __init__(self, box: SecretBox, instance_id: str, message_id: str) -> None:
        self._box = box
        self._instance_id = instance_id
        self._message_id = message_id

    def seal(self, field: str, text: str) -> Sealed:
        return Sealed(self._box.seal(text, message_context(self._instance_id, self._message_id, field)))

    def open(self, field: str, sealed: str) -> str:
        """SecretError if `sealed` was sealed for another message or field."""
        return self._box.open(sealed, message_context(self._instance_id, self._message_id, field))

    def seal_optional(self, field: str, text: str | None) -> Sealed | None:
        return None if not text else self.seal(field, text)

    def open_bodies(self, text_sealed: str | None, html_sealed: str | None) -> Bodies:
        """The bodies for delivery (None where the message has none, or retention removed them)."""
        return Bodies(
            text=None if text_sealed is None else self.open(TEXT, text_sealed),
            html=None if html_sealed is None else self.open(HTML, html_sealed),
        )
