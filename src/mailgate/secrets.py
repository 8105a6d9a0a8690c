"""Secrets at rest: AES-256-GCM sealing with key ids, bound to the row and field they belong to."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import stat
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from mailgate.config import ConfigError, Settings
from mailgate.errors import MailgateError

FORMAT = "v1"
KEY_FILE = "master.key"
_DIGEST_KEY_LABEL = b"mailgate digest key v1"


class SecretError(MailgateError):
    """A sealed value could not be opened (wrong key, tampering, or moved to another row)."""


def key_id(key: bytes) -> str:
    """A short public name for a key, stored beside each ciphertext so keys can rotate."""
    return hashlib.sha256(b"mailgate-key-id:" + key).hexdigest()[:12]


class SecretBox:
    """Seals strings with the current key; opens anything sealed with a key it holds."""

    def __init__(self, current: bytes, older: tuple[bytes, ...] = ()) -> None:
        self._current_id = key_id(current)
        self._keys = {key_id(key): AESGCM(key) for key in (current, *older)}
        # A key of its own for digests, so that no AES key is ever used for two purposes.
        self._digest_keys = {
            key_id(key): hmac.digest(key, _DIGEST_KEY_LABEL, "sha256") for key in (current, *older)
        }

    def digest(self, data: bytes, context: str) -> str:
        """A keyed digest (HMAC-SHA256) of `data` for `context`: tells whether two values were equal
        without storing either, also when they are guessable (a short code in an email)."""
        return f"{self._current_id}:{self._digest(self._current_id, data, context)}"

    def digest_matches(self, digest: str, data: bytes, context: str) -> bool:
        """Whether `digest` (from `digest`, with any key this box holds) is the digest of `data`."""
        kid, _, value = digest.partition(":")
        if kid not in self._digest_keys:
            return False
        return hmac.compare_digest(value, self._digest(kid, data, context))

    def _digest(self, kid: str, data: bytes, context: str) -> str:
        mac = hmac.new(self._digest_keys[kid], context.encode() + b"\x00" + data, "sha256")
        return base64.urlsafe_b64encode(mac.digest()).rstrip(b"=").decode()

    def seal(self, plaintext: str, context: str) -> str:
        """Encrypt `plaintext`; `context` (e.g. "instance/provider/password") is the associated data."""
        nonce = os.urandom(12)
        sealed = self._keys[self._current_id].encrypt(nonce, plaintext.encode(), context.encode())
        return f"{FORMAT}:{self._current_id}:{base64.b64encode(nonce + sealed).decode()}"

    def open(self, sealed: str, context: str) -> str:
        """Decrypt a value sealed for exactly this `context`."""
        try:
            version, kid, payload = sealed.split(":", 2)
            raw = base64.b64decode(payload)
            cipher = self._keys[kid]
        except (ValueError, KeyError):
            raise SecretError("sealed value has an unknown format or key id") from None
        if version != FORMAT:
            raise SecretError("sealed value has an unknown format")
        try:
            return cipher.decrypt(raw[:12], raw[12:], context.encode()).decode()
        except InvalidTag:
            raise SecretError("sealed value does not belong here or was altered") from None


def load_master_key(settings: Settings) -> bytes:
    """The key from MAILGATE_MASTER_KEY, or (embedded SQLite only) from a 0600 key file in the data dir."""
    if settings.master_key is not None:
        return settings.master_key
    if settings.uses_postgres:
        raise ConfigError("MAILGATE_MASTER_KEY", "is required with PostgreSQL (base64 of 32 bytes)")
    path = settings.data_dir / KEY_FILE
    if path.exists():
        return _read_key_file(path)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    key = os.urandom(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(base64.b64encode(key).decode() + "\n")
    return key


def _read_key_file(path: Path) -> bytes:
    if path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError("MAILGATE_DATA_DIR", f"{path} must be readable by its owner only (chmod 600)")
    try:
        key = base64.b64decode(path.read_text().strip(), validate=True)
    except ValueError:
        key = b""
    if len(key) != 32:
        raise ConfigError("MAILGATE_DATA_DIR", f"{path} does not hold base64 of 32 bytes")
    return key
