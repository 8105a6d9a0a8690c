"""How a message's subject and bodies are held: sealed in the store, opened only to send them.

The same AEAD as provider secrets (mailgate.secrets), with associated data binding each sealed
value to its instance, message and field, so a sealed body copied to another message or field does
not open. The field names differ from every provider secret's field (providers.sealing), so a
sealed body can never pass for a secret of a provider whose id equals the message's.
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
    """Associated data binding a sealed value to its instance, message (messages.id) and field."""
    return f"{instance_id}/{message_id}/{field}"


class MessageSecrets:
    """Seals and opens the subject and bodies of one message, each bound to its field."""

    def __init__(self, box: SecretBox, instance_id: str, message_id: str) -> None:
        self._box = box
        self._instance_id = instance_id
        self._message_id = message_id

    def seal(self, field: str, text: str) -> Sealed:
        """`text` sealed for this message's `field`."""
        return Sealed(self._box.seal(text, message_context(self._instance_id, self._message_id, field)))

    def open(self, field: str, sealed: str) -> str:
        """A value sealed for this message's `field`; SecretError if it was sealed for another."""
        return self._box.open(sealed, message_context(self._instance_id, self._message_id, field))

    def open_bodies(self, text: str | None, html: str | None) -> Bodies:
        """The sealed text and HTML bodies (either may be absent), opened."""
        return Bodies(
            text=None if text is None else self.open(TEXT, text),
            html=None if html is None else self.open(HTML, html),
        )
