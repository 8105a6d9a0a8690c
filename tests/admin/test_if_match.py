"""If-Match values as every API reads them (RFC 7232 3.1), down to the domain's neutral precondition."""

from __future__ import annotations

from mailgate.api.preconditions import if_match
from mailgate.providers.preconditions import AnyVersion, OneOf


def test_if_match_lists_read_as_rfc_7232_spells_them() -> None:
    assert if_match(" * ") == AnyVersion()
    # Empty list elements are allowed, a comma may sit inside a tag, a weak tag never matches.
    assert if_match(' "a" , ,W/"b",\t"c,d"') == OneOf(frozenset({'"a"', '"c,d"'}))
    assert if_match('W/"x"') == OneOf(frozenset())
