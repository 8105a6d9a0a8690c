"""The Okta routes of the OpenAPI document, from what the code declares: the endpoints (operations)
and the bodies they read (bodies); there is no proto."""

from __future__ import annotations

from starlette.convertors import CONVERTOR_TYPES

from mailgate.api.okta.bodies import CREATE, CREATIONS, PATCH, TEST
from mailgate.api.okta.fields import Schema
from mailgate.api.okta.operations import ENDPOINTS, SERVER_ID, Routed
from mailgate.api.okta.wire import LIST_PROPERTY, PREFIX
from mailgate.pipeline.auth import READ, WRITE

TAG = "EmailServer"
_REF = "#/components/schemas/"
_SCOPES = {READ: "okta.emailServers.read", WRITE: "okta.emailServers.manage"}
# What the router matches for a path parameter (Starlette's default convertor).
_ID = {"type": "string", "minLength": 1, "pattern": f"^{CONVERTOR_TYPES['str'].regex}$"}
_HEADERS = {
    name: {"description": text, "required": True, "schema": {"type": "integer"}}
    for name, text in [
        ("X-Rate-Limit-Limit", "Requests allowed per minute for this token."),
        ("X-Rate-Limit-Remaining", "Requests left before the limit applies."),
        ("X-Rate-Limit-Reset", "When the limit is back to full, in UTC epoch seconds."),
    ]
}
# Answers that are one server carry its ETag; the writes of one server take it back in If-Match.
_ONE_SERVER = frozenset({"okta.EmailServer", "okta.EmailServerItem"})
_CONDITIONAL = frozenset({"PATCH", "DELETE"})
_ETAG = {
    "description": "The server's current etag (RFC 7232, strong): send it in If-Match to change it safely.",
    "required": True,
    "schema": {"type": "string"},
}
_IF_MATCH = {
    "name": "If-Match",
    "in": "header",
    "required": False,
    "description": "Only if the server's etag is still one of these (or `*`); else 412 and nothing changes.",
    "schema": {"type": "string"},
}
_LIMITS = ("minLength", "maxLength", "minItems", "maxItems", "minimum", "maximum", "default", "format")


def _loose(schema: Schema) -> Schema:
    """`schema` without length and size limits (for values read back, whoever wrote them)."""
    loose = {key: value for key, value in schema.items() if key not in _LIMITS}
    items = loose.get("items")
    if isinstance(items, dict):
        loose["items"] = _loose(items)
    return loose


def schemas() -> dict[str, Schema]:
    """The Okta schemas, named okta.* beside the protobuf ones."""
    # Providers made through ZITADEL's API need not meet Okta's limits (an empty alias, say).
    read = {field.name: _loose(field.schema()) for field in PATCH.fields if not field.secret}
    return {
        "okta.EmailServer": {
            "type": "object",
            "properties": {"id": {"type": "string", "readOnly": True}, **read},
            "required": ["id", "alias", "enabled", "authType", "host", "port"],
        },
        **{creation.name: creation.schema() for creation in CREATIONS},
        CREATE.name: {"oneOf": [{"$ref": _REF + creation.name} for creation in CREATIONS]},
        PATCH.name: PATCH.schema(),
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
        TEST.name: TEST.schema(),
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


def _json(name: str) -> Schema:
    return {"application/json": {"schema": {"$ref": _REF + name}}}


def _by_id(endpoint: Routed) -> bool:
    return f"{{{SERVER_ID}}}" in endpoint.path


def _operation(endpoint: Routed) -> Schema:
    name, status = endpoint.operation.name, str(endpoint.status)
    success: Schema = {"description": "OK" if status == "200" else "Done", "headers": _HEADERS}
    if endpoint.answers:
        success["content"] = _json(endpoint.answers)
    if endpoint.answers in _ONE_SERVER:
        success["headers"] = {**_HEADERS, "ETag": _ETAG}
    if endpoint.status == 201:  # a created server's id leads to the by-id operations
        success["links"] = {
            other.operation.name: {
                "operationId": other.operation.name,
                "parameters": {SERVER_ID: "$response.body#/id"},
            }
            for other in ENDPOINTS
            if _by_id(other)
        }
    operation: Schema = {
        "operationId": name,
        "tags": [TAG],
        "summary": f"{name} (Okta scope {_SCOPES[endpoint.operation.permission]})",
        "description": "Send `Authorization: SSWS <token>` or `Authorization: Bearer <token>`.",
        "responses": {
            status: success,
            "default": {
                "description": "An Okta error (400, 401, 403, 404, 405, 409, 412, 429, 500)",
                "headers": _HEADERS,
                "content": _json("okta.Error"),
            },
        },
    }
    if endpoint.body.name:
        operation["requestBody"] = {"required": True, "content": _json(endpoint.body.name)}
    if _by_id(endpoint):
        parameters: list[Schema] = [{"name": SERVER_ID, "in": "path", "required": True, "schema": _ID}]
        if endpoint.method in _CONDITIONAL:
            parameters.append(_IF_MATCH)
        operation["parameters"] = parameters
    return operation


def paths() -> dict[str, Schema]:
    """The six operations, with links from a created server's id to the by-id operations."""
    document: dict[str, Schema] = {}
    for endpoint in ENDPOINTS:
        document.setdefault(PREFIX + endpoint.path, {})[endpoint.method.lower()] = _operation(endpoint)
    return document
