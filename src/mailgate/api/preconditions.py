"""A write's precondition as every API reads it: If-Match (RFC 7232 3.1), the header or the
`if-match` call metadata, and mailgate.v1's body `etag` field (AIP-154).

If-Match is `*` or a comma-separated list of entity tags (`"..."`, or weak `W/"..."`); empty list
elements are allowed (RFC 7230 7). If-Match compares strongly, so a weak tag is read but never
matches. A body etag is one strong entity tag, as a read answered it. Anything else is
INVALID_ARGUMENT. What comes out is the domain's neutral precondition.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from mailgate.errors import FieldViolation, InvalidArgument
from mailgate.providers.preconditions import AnyVersion, OneOf, Precondition

MALFORMED_ID = "MG-IF-MATCH-MALFORMED"
BODY_MALFORMED_ID = "MG-ETAG-MALFORMED"
TWICE_ID = "MG-ETAG-TWICE"
# The metadata keys it arrives under: native gRPC, grpc-web and Connect send it as it is; the JSON
# gateway forwards the If-Match header as grpc-gateway does with IANA's permanent headers.
KEYS = ("if-match", "grpcgateway-if-match")
_TAG = re.compile(r'(W/)?"([\x21\x23-\x7e\x80-\xff]*)"')  # etagc: %x21 / %x23-7E / obs-text
_OWS = " \t"


def if_match(value: str) -> Precondition:
    """An If-Match value as the domain's precondition; InvalidArgument when it is not one."""
    if value.strip(_OWS) == "*":
        return AnyVersion()
    tags = list(_entity_tags(value))
    if not tags:
        raise _malformed(value)
    return OneOf(frozenset(tag for weak, tag in tags if not weak))


def _entity_tags(value: str) -> list[tuple[bool, str]]:
    """Each entity tag of a list (weak or not, and the tag with its quotes), in order."""
    tags: list[tuple[bool, str]] = []
    at, end = 0, len(value)
    while True:
        at = _skip(value, at)
        if at < end and value[at] != ",":
            found = _TAG.match(value, at)
            if found is None:
                raise _malformed(value)
            tags.append((found[1] is not None, f'"{found[2]}"'))
            at = _skip(value, found.end())
        if at == end:
            return tags
        if value[at] != ",":
            raise _malformed(value)
        at += 1


def _skip(value: str, at: int) -> int:
    while at < len(value) and value[at] in _OWS:
        at += 1
    return at


def from_metadata(metadata: Mapping[str, str]) -> Precondition | None:
    """The call's precondition, if it has one."""
    for key in KEYS:
        value = metadata.get(key)
        if value is not None:
            return if_match(value)
    return None


def with_body_etag(metadata: Mapping[str, str], body_etag: str) -> Precondition | None:
    """The precondition of a mailgate.v1 write: its body `etag` (empty: none) or the call's If-Match,
    not both (which one failed decides 409 or 412 on HTTP, so a write names one)."""
    header = from_metadata(metadata)
    if not body_etag:
        return header
    if header is not None:
        violation = FieldViolation(
            field="etag", description="give the etag in the body or in If-Match, not both"
        )
        raise InvalidArgument(TWICE_ID, f"Invalid argument: {violation.description}", [violation])
    found = _TAG.fullmatch(body_etag)
    if found is None or found[1] is not None:
        description = 'must be an etag a read answered, quotes included ("...")'
        violation = FieldViolation(field="etag", description=description)
        raise InvalidArgument(BODY_MALFORMED_ID, f"Invalid argument: etag {description}", [violation])
    return OneOf(frozenset({body_etag}))


def _malformed(value: str) -> InvalidArgument:
    description = 'must be * or a list of entity tags ("..." or W/"...")'
    shown = value if len(value) <= 200 else value[:200] + "..."
    return InvalidArgument(
        MALFORMED_ID,
        f"Invalid argument: If-Match {description}: {shown!r}",
        [FieldViolation(field="If-Match", description=description)],
    )
