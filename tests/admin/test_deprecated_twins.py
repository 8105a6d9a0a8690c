"""The deprecated RPCs that their replacements serve take and give the same fields."""

from __future__ import annotations

from typing import Any

import pytest

from mailgate.gen.zitadel import admin_pb2 as pb


@pytest.mark.parametrize(
    ("deprecated", "replacement"),
    [
        ("AddSMTPConfig", "AddEmailProviderSMTP"),
        ("UpdateSMTPConfig", "UpdateEmailProviderSMTP"),
        ("UpdateSMTPConfigPassword", "UpdateEmailProviderSMTPPassword"),
        ("ActivateSMTPConfig", "ActivateEmailProvider"),
        ("DeactivateSMTPConfig", "DeactivateEmailProvider"),
        ("RemoveSMTPConfig", "RemoveEmailProvider"),
        ("TestSMTPConfigById", "TestEmailProviderSMTPById"),
        ("TestSMTPConfig", "TestEmailProviderSMTP"),
    ],
)
def test_a_deprecated_rpc_served_by_its_replacement_carries_the_same_fields(
    deprecated: str, replacement: str
) -> None:
    # Its replacement answers it, re-read as the deprecated response: same fields, same numbers, same
    # types; and the deprecated request's fields are the replacement's, under the same numbers.
    service = pb.DESCRIPTOR.services_by_name["AdminService"]
    old, new = service.methods_by_name[deprecated], service.methods_by_name[replacement]

    def shape(message: Any) -> set[tuple[str, int, int]]:
        return {(f.name, f.number, f.type) for f in message.fields}

    assert shape(old.output_type) == shape(new.output_type)
    assert shape(old.input_type) <= shape(new.input_type)
