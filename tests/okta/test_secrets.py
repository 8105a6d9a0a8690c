"""Secrets given to Okta's API are sealed at rest, bound to their provider, and never answered."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from mailgate.providers.sealing import secret_context
from tests.fixtures.credentials import CLIENT_SECRET
from tests.fixtures.oauth import RsaKey
from tests.fixtures.servers import RunningServer
from tests.okta.conftest import Okta, basic

from .test_auth_types import client_credentials, jwt_bearer

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_every_secret_is_sealed_for_its_row_and_field(
    okta: Okta, server: RunningServer, rsa_key: RsaKey
) -> None:
    password = "pw-at-rest-Okta-7"
    made = {
        "password": await okta.add(basic(password=password)),
        "client_secret": await okta.add(client_credentials()),
        "private_key": await okta.add(jwt_bearer(rsa_key)),
    }
    columns = {"password": "password_sealed", "client_secret": "client_secret_sealed"}
    columns["private_key"] = "private_key_sealed"
    expected = {"password": password, "client_secret": CLIENT_SECRET, "private_key": rsa_key.pem}
    box = server.services.box
    async with server.services.db.engine.connect() as conn:
        for field, created in made.items():
            sealed = await conn.scalar(
                text(f"SELECT {columns[field]} FROM email_providers WHERE instance_id = :i AND id = :id"),
                {"i": server.instance, "id": created["id"]},
            )
            assert sealed.startswith("v1:") and expected[field] not in sealed
            context = secret_context(server.instance, created["id"], field)
            assert box.open(sealed, context) == expected[field]
    listed = (await okta.list()).text
    for secret in expected.values():
        assert secret.strip().splitlines()[0] not in listed
