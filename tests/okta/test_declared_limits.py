"""The served document's limits are the ones the API enforces: a value at each stated limit passes
the check, one past it is refused with a cause naming the property, and leaving out a required
property is refused too. A client that trusts /openapi.json is never surprised by a 400."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.fixtures.oauth import RsaKey
from tests.okta.conftest import SERVERS, Okta, basic, causes

from .test_auth_types import client_credentials, jwt_bearer

pytestmark = pytest.mark.asyncio(loop_scope="session")

Edge = tuple[Any, str | None]  # a value, and the cause it must get (None: no cause of that kind)


def _plain_text(schema: dict[str, Any]) -> bool:
    """A string with nothing but a length to meet, so a value of that length is a valid one."""
    return schema.get("type") == "string" and set(schema) <= {
        "type",
        "minLength",
        "maxLength",
        "writeOnly",
        "nullable",
    }


def _edges(name: str, schema: dict[str, Any]) -> Iterator[Edge]:
    """Values at and past the limits `schema` states, each with the cause past a limit must get."""
    if schema.get("type") == "string" and "maxLength" in schema:
        low, high = schema["minLength"], schema["maxLength"]
        refused = f"{name}: length must be between {low} and {high} characters"
        yield "x" * high, None
        yield "x" * (high + 1), refused
        yield "x" * (low - 1), refused
    elif schema.get("type") == "array":
        low, high, item = schema["minItems"], schema["maxItems"], schema["items"]
        refused = f"{name}: must be a list of {low} to {high} scopes"
        yield ["s"] * high, None
        yield ["s"] * (high + 1), refused
        yield ["s"] * (low - 1), refused
        yield ["x" * item["maxLength"]], None
        yield (
            ["x" * (item["maxLength"] + 1)],
            (f"{name}[0]: length must be between {item['minLength']} and {item['maxLength']} characters"),
        )
    elif schema.get("type") == "integer":
        low, high = schema["minimum"], schema["maximum"]
        refused = f"{name}: must be an integer from {low} to {high}"
        yield high, None
        yield high + 1, refused
        yield low - 1, refused


async def test_every_stated_limit_is_the_one_enforced(okta: Okta, rsa_key: RsaKey) -> None:
    document = (await okta.http.get("/openapi.json")).json()
    schemas = document["components"]["schemas"]
    valid = {
        "okta.EmailServerCreateBasic": basic(),
        "okta.EmailServerCreateClientCredentials": client_credentials(),
        "okta.EmailServerCreateJwtBearer": jwt_bearer(rsa_key),
    }
    variants = [one["$ref"].rsplit("/", 1)[-1] for one in schemas["okta.EmailServerCreate"]["oneOf"]]
    assert sorted(variants) == sorted(valid)
    checked = 0
    for variant in variants:
        for name, schema in schemas[variant]["properties"].items():
            for value, refused in _edges(name, schema):
                response = await okta.create({**valid[variant], name: value})
                found = causes(response.json()) if response.status_code == 400 else []
                if refused is not None:
                    assert (response.status_code, found) == (400, [refused]), (variant, name, value)
                    continue
                assert not [cause for cause in found if "length" in cause or "list" in cause], found
                if _plain_text(schema) or schema.get("type") != "string":
                    assert response.status_code == 201, (variant, name, response.text)
                checked += 1
        for name in schemas[variant]["required"]:
            response = await okta.create({key: value for key, value in valid[variant].items() if key != name})
            assert response.status_code == 400, (variant, name)
            if name != "authType":  # without it a body is basic (older SDKs): refused for its fields
                assert [c for c in causes(response.json()) if c.startswith(f"{name}: is required")], name
    assert checked >= 20  # every variant's text, scopes and port limits were tried


async def test_the_test_request_meets_its_stated_limits(okta: Okta, http: httpx.AsyncClient) -> None:
    schema = (await http.get("/openapi.json")).json()["components"]["schemas"]["okta.EmailTestAddresses"]
    created = await okta.add(basic(host="127.0.0.1", port=9))  # nothing is ever sent there
    for name, property_schema in schema["properties"].items():
        for value, refused in _edges(name, property_schema):
            if refused is None:
                continue  # a valid address would send an email
            body = {"fromAddress": "a@example.com", "toAddress": "b@example.com", name: value}
            response = await okta.http.post(
                f"{SERVERS}/{created['id']}/test", json=body, headers=okta.headers
            )
            assert (response.status_code, causes(response.json())) == (400, [refused])
