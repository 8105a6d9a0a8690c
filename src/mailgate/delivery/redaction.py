"""Redaction: known secrets, and every encoding mailgate itself produces of them, removed from text."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable, Sequence
from urllib.parse import quote, quote_plus

REDACTED = "[redacted]"


class Redactor:
    """Removes known secrets, and their base64 and URL-encoded forms, from any text."""

    def __init__(self, secrets: Iterable[str | bytes] = ()) -> None:
        self._forms: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        for secret in secrets:
            self.add(secret)

    def add(self, secret: str | bytes) -> None:
        """Register a secret; later `scrub` calls replace it wherever it appears."""
        raw = secret.encode() if isinstance(secret, str) else secret
        if not raw:
            return
        text = raw.decode("utf-8", "replace")
        forms = {
            text,
            quote(text, safe=""),
            quote_plus(text, safe=""),
            base64.b64encode(raw).decode(),
            base64.urlsafe_b64encode(raw).decode(),
        }
        # base64 without its "=" padding too, as tokens are sometimes written that way.
        forms |= {form.rstrip("=") for form in forms if form.rstrip("=")}
        self._forms |= forms
        self._pattern = None

    def _compiled(self) -> re.Pattern[str] | None:
        if self._pattern is None and self._forms:
            ordered = sorted(self._forms, key=len, reverse=True)
            self._pattern = re.compile("|".join(re.escape(form) for form in ordered))
        return self._pattern

    def scrub(self, text: str) -> str:
        """`text` with every registered secret replaced by "[redacted]" (one pass, longest first)."""
        pattern = self._compiled()
        return pattern.sub(REDACTED, text) if pattern is not None and text else text

    def scrub_pieces(self, pieces: Sequence[str]) -> list[str]:
        """`pieces` with every secret replaced, also one split across pieces (a server wrapping an
        echoed password over two reply lines): matched in their concatenation, not piece by piece."""
        pattern = self._compiled()
        joined = "".join(pieces)
        spans = [match.span() for match in pattern.finditer(joined)] if pattern is not None else []
        if not spans:
            return list(pieces)
        scrubbed: list[str] = []
        start = 0
        for piece in pieces:
            end = start + len(piece)
            parts, position = [], start
            for low, high in spans:
                if high > start and low < end:  # this match covers part of this piece
                    parts += [joined[position : max(low, start)], REDACTED]
                    position = min(high, end)
            parts.append(joined[position:end])
            scrubbed.append("".join(parts))
            start = end
        return scrubbed
