"""The Okta routes of the OpenAPI document, written by hand as the routes are (there is no proto)."""

from __future__ import annotations

from typing import Any

from mailgate.api.okta.fields import MAX_PRIVATE_KEY
from mailgate.api.okta.wire import (
    AUTH_TYPES,
    BASE_REQUIRED,
    LIST_PROPERTY,
    OKTA_NAMES,
    PREFIX,
    SIGNING_ALGORITHMS,
)
from mailgate.providers.auth import field_names

Schema = dict[str, Any]
TAG = "EmailServer"
_REF = "#/components/schemas/"
_CREATE_SCHEMAS = {
    "BASIC_SMTP_AUTH": "okta.EmailServerCreateBasic",
    "OAUTH2_CLIENT_CREDENTIALS": "okta.EmailServerCreateClientCredentials",
    "OAUTH2_JWT_BEARER_GRANT": "okta.EmailServerCreateJwtBearer",
}
_ID = {"type": "string", "minLength": 1, "pattern": "^[^/]+$"}
_HEADERS = {
    name: {"description": text, "required": True, "schema": {"type": "integer"}}
    for name, text in [
        ("X-Rate-Limit-Limit", "Requests allowed per minute for this token."),
        ("X-Rate-Limit-Remaining", "Requests left before the limit applies."),
        ("X-Rate-Limit-Reset", "When the limit is back to full, in UTC epoch seconds."),
    ]
}


def _text(high: int) -> Schema:
    return {"type": "string", "minLength": 1, "maxLength": high}


def _auth_properties() -> dict[str, Schema]:
    """Every authType's properties; the secrets are write-only."""
    return {
        "authType": {"type": "string", "enum": list(AUTH_TYPES)},
        "password": {**_text(200), "writeOnly": True},
        "clientId": _text(200),
        "clientSecret": {**_text(200), "writeOnly": True},
        "tokenEndpoint": {**_text(200), "format": "uri"},
        "tokenEndpointAuthMethod": {"type": "string", "enum": ["CLIENT_SECRET_BASIC", "CLIENT_SECRET_POST"]},
        "scopes": {"type": "array", "minItems": 1, "maxItems": 20, "items": _text(100)},
        "signingAlgorithm": {"type": "string", "enum": list(SIGNING_ALGORITHMS)},
        "keyId": _text(200),
        "issuer": _text(500),
        "subject": _text(500),
        "audience": _text(2048),
        "privateKey": {**_text(MAX_PRIVATE_KEY), "writeOnly": True, "description": "PEM of an RSA key"},
    }


def _loose(schema: Schema) -> Schema:
    """`schema` without length and size limits (for values read back, whoever wrote them)."""
    limits = ("minLength", "maxLength", "minItems", "maxItems", "minimum", "maximum", "default", "format")
    loose = {key: value for key, value in schema.items() if key not in limits}
    if "items" in loose:
        loose["items"] = _loose(loose["items"])
    return loose


def _base_properties() -> dict[str, Schema]:
    return {
        "alias": _text(200),
        "host": {**_text(253), "description": "Host name or IP address, without the port"},
        "port": {"type": "integer", "minimum": 1, "maximum": 65535},
        "username": _text(200),
        "enabled": {"type": "boolean"},
    }


def _create(auth_type: str, required: tuple[str, ...]) -> Schema:
    """One authType's create body: the base fields and that variant's, every one of them required."""
    auth = _auth_properties()
    properties = {**_base_properties(), **{name: auth[name] for name in ("authType", *required)}}
    properties["authType"] = {"type": "string", "enum": [auth_type]}
    # Defaults belong to creation only: in a PATCH, a default would be sent as if the user set it.
    properties["enabled"] = {**properties["enabled"], "default": False}
    needed = [*BASE_REQUIRED, *required]
    if auth_type != "BASIC_SMTP_AUTH":  # older SDKs send basic auth without authType
        needed.append("authType")
    return {"type": "object", "properties": _nullable(properties, needed), "required": needed}


def _nullable(properties: dict[str, Schema], required: list[str]) -> dict[str, Schema]:
    """Optional properties may be null, which counts as left out."""
    return {
        name: schema if name in required else {**schema, "nullable": True}
        for name, schema in properties.items()
    }


def schemas() -> dict[str, Schema]:
    """The Okta schemas, named okta.* beside the protobuf ones."""
    auth = _auth_properties()
    # Providers made through ZITADEL's API need not meet Okta's limits (an empty alias, say).
    read = {
        key: _loose(value)
        for key, value in {**_base_properties(), **auth}.items()
        if not value.get("writeOnly")
    }
    variants = {
        schema: _create(name, tuple(OKTA_NAMES[field] for field in field_names(AUTH_TYPES[name])))
        for name, schema in _CREATE_SCHEMAS.items()
    }
    return {
        "okta.EmailServer": {
            "type": "object",
            "properties": {"id": {"type": "string", "readOnly": True}, **read},
            "required": ["id", "alias", "enabled", "authType", "host", "port"],
        },
        **variants,
        "okta.EmailServerCreate": {"oneOf": [{"$ref": _REF + name} for name in variants]},
        "okta.EmailServerUpdate": {
            "type": "object",
            "description": "Only the properties sent change: one left out, or null, keeps its value.",
            "properties": _nullable({**_base_properties(), **auth}, []),
        },
        "okta.EmailServerItem": {
            "description": "The EmailServer, and itself again in `email-servers` (for Okta's Python SDK).",
            "allOf": [
                {"$ref": _REF + "okta.EmailServer"},
                {
                    "type": "object",
                    "properties": {
                        LIST_PROPERTY: {"type": "array", "items": {"$ref": _REF + "okta.EmailServer"}}
                    },
                    "required": [LIST_PROPERTY],
                },
            ],
        },
        "okta.EmailServerList": {
            "type": "object",
            "properties": {LIST_PROPERTY: {"type": "array", "items": {"$ref": _REF + "okta.EmailServer"}}},
            "required": [LIST_PROPERTY],
        },
        "okta.EmailTestAddresses": {
            "type": "object",
            "properties": {
                "fromAddress": {**_text(200), "format": "email"},
                "toAddress": {**_text(200), "format": "email"},
            },
            "required": ["fromAddress", "toAddress"],
        },
        "okta.Error": {
            "type": "object",
            "properties": {
                "errorCode": {"type": "string"},
                "errorSummary": {"type": "string"},
                "errorLink": {"type": "string"},
                "errorId": {"type": "string"},
                "errorCauses": {
                    "type": "array",
                    "items": {"type": "object", "properties": {"errorSummary": {"type": "string"}}},
                },
            },
            "required": ["errorCode", "errorSummary", "errorLink", "errorId", "errorCauses"],
        },
    }


def _json(name: str) -> dict[str, Any]:
    return {"application/json": {"schema": {"$ref": _REF + name}}}


def _operation(operation_id: str, scope: str, status: str, response: str | None) -> dict[str, Any]:
    success: dict[str, Any] = {"description": "OK" if status == "200" else "Done", "headers": _HEADERS}
    if response:
        success["content"] = _json(response)
    return {
        "operationId": operation_id,
        "tags": [TAG],
        "summary": f"{operation_id} (Okta scope {scope})",
        "description": "Send `Authorization: SSWS <token>` or `Authorization: Bearer <token>`.",
        "responses": {
            status: success,
            "default": {
                "description": "An Okta error (400, 401, 403, 404, 405, 409, 429, 500)",
                "headers": _HEADERS,
                "content": _json("okta.Error"),
            },
        },
    }


def _with_body(operation: dict[str, Any], name: str) -> dict[str, Any]:
    return {**operation, "requestBody": {"required": True, "content": _json(name)}}


def _with_id(operation: dict[str, Any]) -> dict[str, Any]:
    parameter = {"name": "emailServerId", "in": "path", "required": True, "schema": _ID}
    return {**operation, "parameters": [parameter]}


def paths() -> dict[str, dict[str, Any]]:
    """The six operations, with links from a created server's id to the by-id operations."""
    read, manage = "okta.emailServers.read", "okta.emailServers.manage"
    create = _with_body(
        _operation("createEmailServer", manage, "201", "okta.EmailServer"), "okta.EmailServerCreate"
    )
    by_id = ["getEmailServer", "updateEmailServer", "deleteEmailServer", "testEmailServer"]
    create["responses"]["201"]["links"] = {
        target: {"operationId": target, "parameters": {"emailServerId": "$response.body#/id"}}
        for target in by_id
    }
    item = f"{PREFIX}/{{emailServerId}}"
    return {
        PREFIX: {
            "get": _operation("listEmailServers", read, "200", "okta.EmailServerList"),
            "post": create,
        },
        item: {
            "get": _with_id(_operation("getEmailServer", read, "200", "okta.EmailServerItem")),
            "patch": _with_id(
                _with_body(
                    _operation("updateEmailServer", manage, "200", "okta.EmailServer"),
                    "okta.EmailServerUpdate",
                )
            ),
            "delete": _with_id(_operation("deleteEmailServer", manage, "204", None)),
        },
        f"{item}/test": {
            "post": _with_id(
                _with_body(_operation("testEmailServer", manage, "204", None), "okta.EmailTestAddresses")
            ),
        },
    }
