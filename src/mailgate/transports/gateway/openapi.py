"""An OpenAPI 3 document for the JSON routes, generated from the same descriptors and route table.

Schemas follow the protojson mapping the gateway speaks (lowerCamelCase names, 64-bit integers as
strings, enums by name) and carry the protovalidate limits, so a generated request is a valid one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from google.api import field_behavior_pb2
from google.protobuf.descriptor import Descriptor, FieldDescriptor

from mailgate import __version__ as _version
from mailgate.gen.buf.validate import validate_pb2
from mailgate.transports.gateway.routes import Route, RouteTable

Schema = dict[str, Any]

STATUS_REF = {"$ref": "#/components/schemas/google.rpc.Status"}
_STATUS = {
    "type": "object",
    "description": "A gRPC status: numeric code, message, and typed details.",
    "properties": {
        "code": {"type": "integer", "format": "int32"},
        "message": {"type": "string"},
        "details": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"@type": {"type": "string"}},
                "required": ["@type"],
                "additionalProperties": True,
            },
        },
    },
}
_INT64 = {FieldDescriptor.TYPE_INT64, FieldDescriptor.TYPE_SINT64, FieldDescriptor.TYPE_SFIXED64}
_UINT64 = {FieldDescriptor.TYPE_UINT64, FieldDescriptor.TYPE_FIXED64}
_INT32 = {FieldDescriptor.TYPE_INT32, FieldDescriptor.TYPE_SINT32, FieldDescriptor.TYPE_SFIXED32}
_UINT32 = {FieldDescriptor.TYPE_UINT32, FieldDescriptor.TYPE_FIXED32}
_WKT: dict[str, Schema] = {
    "google.protobuf.Timestamp": {"type": "string", "format": "date-time"},
    "google.protobuf.Duration": {"type": "string", "pattern": r"^-?[0-9]+(\.[0-9]{1,9})?s$"},
    "google.protobuf.FieldMask": {"type": "string"},
    "google.protobuf.Struct": {"type": "object", "additionalProperties": True},
    "google.protobuf.Value": {},
    "google.protobuf.ListValue": {"type": "array", "items": {}},
    "google.protobuf.Empty": {"type": "object"},
    "google.protobuf.Any": {
        "type": "object",
        "properties": {"@type": {"type": "string"}},
        "required": ["@type"],
        "additionalProperties": True,
    },
}
_WRAPPED: dict[str, Schema] = {
    "DoubleValue": {"type": "number"},
    "FloatValue": {"type": "number"},
    "Int64Value": {"type": "string", "format": "int64", "pattern": r"^-?[0-9]{1,19}$"},
    "UInt64Value": {"type": "string", "format": "uint64", "pattern": r"^[0-9]{1,20}$"},
    "Int32Value": {"type": "integer", "format": "int32"},
    "UInt32Value": {"type": "integer", "format": "int64", "minimum": 0, "maximum": 4294967295},
    "BoolValue": {"type": "boolean"},
    "StringValue": {"type": "string"},
    "BytesValue": {"type": "string", "format": "byte"},
}
_WKT.update({f"google.protobuf.{name}": schema for name, schema in _WRAPPED.items()})


def document(
    routes: RouteTable, parts: Iterable[tuple[Mapping[str, Any], Mapping[str, Any]]] = ()
) -> dict[str, Any]:
    """The OpenAPI 3.0 document: every route, its schemas and the bearer security scheme, plus the
    (paths, schemas) `parts` of the apps mounted beside them (whose routes no proto declares)."""
    schemas: dict[str, Schema] = {"google.rpc.Status": _STATUS}
    paths: dict[str, dict[str, Any]] = {}
    seen: dict[str, int] = {}
    operations: dict[Route, dict[str, Any]] = {}
    for route in routes.routes:
        base = f"{route.descriptor.containing_service.name}_{route.descriptor.name}"
        seen[base] = seen.get(base, 0) + 1
        operation_id = base if seen[base] == 1 else f"{base}{seen[base]}"
        operation = _operation(route, operation_id, schemas)
        operations[route] = operation
        paths.setdefault(route.openapi_path, {})[route.http_method.lower()] = operation
    _link_created_ids(routes, operations)
    paths["/healthz"] = {"get": _healthz()}
    for extra_paths, extra_schemas in parts:
        paths.update(extra_paths)
        schemas.update(extra_schemas)
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "mailgate",
            "version": _version,
            "description": (
                "ZITADEL's Admin API for email providers, mailgate's delivery API (mailgate.v1), "
                "and Okta's Email Servers API."
            ),
        },
        "paths": paths,
        "components": {
            "schemas": dict(sorted(schemas.items())),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
    }


def _operation(route: Route, operation_id: str, schemas: dict[str, Schema]) -> dict[str, Any]:
    method = route.descriptor
    parameters = [_path_parameter(route, path) for _, path in route.variables]
    if route.body != "*":
        parameters.extend(_query_parameters(method.input_type, route.reserved, schemas))
    response = _message_ref(method.output_type, schemas)
    # A server-streaming method answers Server-Sent Events: each `data:` line one response message.
    media = "text/event-stream" if method.server_streaming else "application/json"
    operation: dict[str, Any] = {
        "operationId": operation_id,
        "tags": [method.containing_service.name],
        "summary": method.name,
        "responses": {
            "200": {"description": "OK", "content": {media: {"schema": response}}},
            "default": {
                "description": "An error, as google.rpc.Status",
                "content": {"application/json": {"schema": STATUS_REF}},
            },
        },
    }
    if parameters:
        operation["parameters"] = parameters
    body = _request_body(route, schemas)
    if body is not None:
        operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    return operation


def _link_created_ids(routes: RouteTable, operations: dict[Route, dict[str, Any]]) -> None:
    """Links from each operation that creates something with an `id` to every operation of the same
    service taking `{id}`.

    They tell clients (and schemathesis' stateful phase) that a new provider's (or message's) id
    works on the by-id routes.
    """
    for route in routes.routes:
        service = route.descriptor.containing_service
        pointer = _created_id(route.descriptor.output_type)
        if route.http_method != "POST" or route.variables or pointer is None:
            continue
        takes_id = [
            operations[r]["operationId"]
            for r in routes.routes
            if r.descriptor.containing_service is service and any(p == "id" for _, p in r.variables)
        ]
        operations[route]["responses"]["200"]["links"] = {
            target: {"operationId": target, "parameters": {"id": f"$response.body#{pointer}"}}
            for target in takes_id
        }


def _created_id(output: Descriptor) -> str | None:
    """Where a response holds the id of what it created: `/id`, or `/<field>/id` of its one resource."""
    if "id" in output.fields_by_name:
        return "/id"
    for field in output.fields:
        resource = field.message_type
        if resource is not None and not field.is_repeated and "id" in resource.fields_by_name:
            return f"/{field.json_name}/id"
    return None


def _healthz() -> dict[str, Any]:
    status = {"type": "object", "properties": {"status": {"type": "string"}}}
    content = {"application/json": {"schema": status}}
    return {
        "operationId": "Health_Check",
        "tags": ["Health"],
        "summary": "grpc.health.v1 Check over HTTP",
        "security": [],
        "parameters": [{"name": "service", "in": "query", "required": False, "schema": {"type": "string"}}],
        "responses": {
            "200": {"description": "SERVING", "content": content},
            "503": {"description": "NOT_SERVING", "content": content},
            "404": {
                "description": "unknown service",
                "content": {"application/json": {"schema": STATUS_REF}},
            },
        },
    }


def _request_body(route: Route, schemas: dict[str, Schema]) -> Schema | None:
    if not route.body:
        return None
    message = route.descriptor.input_type
    bound = {path for _, path in route.variables if "." not in path}
    if not bound:
        return _message_ref(message, schemas)
    # Path variables are not part of the body: describe the message without them.
    name = f"{route.descriptor.containing_service.name}_{route.descriptor.name}Body"
    if name not in schemas:
        full = _message_schema(message, schemas)
        names = {message.fields_by_name[path].json_name for path in bound}
        properties = {key: value for key, value in full["properties"].items() if key not in names}
        body: Schema = {"type": "object", "properties": properties}
        required = [key for key in full.get("required", []) if key not in names]
        if required:
            body["required"] = required
        schemas[name] = body
    return {"$ref": f"#/components/schemas/{name}"}


def _path_parameter(route: Route, path: str) -> dict[str, Any]:
    field = _resolve(route.descriptor.input_type, path)
    schema = _field_schema(field, {})
    if schema.get("type") == "string":
        # One path segment: never empty, never a '/'.
        schema = {**schema, "pattern": "^[^/]+$", "minLength": max(1, schema.get("minLength", 1))}
    return {"name": path, "in": "path", "required": True, "schema": schema}


def _query_parameters(
    message: Descriptor,
    reserved: frozenset[str],
    schemas: dict[str, Schema],
    prefix: str = "",
    depth: int = 0,
) -> list[dict[str, Any]]:
    params: list[dict[str, Any]] = []
    for field in message.fields:
        proto_path = prefix + field.name
        if proto_path in reserved or _is_map(field):
            continue
        nested = field.message_type
        if nested is not None and nested.full_name not in _WKT:
            if not field.is_repeated and depth < 3:
                params.extend(_query_parameters(nested, reserved, schemas, proto_path + ".", depth + 1))
            continue
        params.append(
            {"name": proto_path, "in": "query", "required": False, "schema": _field_schema(field, schemas)}
        )
    return params


def _resolve(message: Descriptor, path: str) -> FieldDescriptor:
    current: Descriptor | None = message
    field: FieldDescriptor | None = None
    for name in path.split("."):
        assert current is not None
        field = current.fields_by_name[name]
        current = field.message_type
    assert field is not None
    return field


def _message_ref(message: Descriptor, schemas: dict[str, Schema]) -> Schema:
    if message.full_name in _WKT:
        return dict(_WKT[message.full_name])
    if message.full_name not in schemas:
        schemas[message.full_name] = {}  # placeholder: recursive messages refer to it
        schemas[message.full_name] = _message_schema(message, schemas)
    return {"$ref": f"#/components/schemas/{message.full_name}"}


def _message_schema(message: Descriptor, schemas: dict[str, Schema]) -> Schema:
    properties: dict[str, Schema] = {}
    required: list[str] = []
    for field in message.fields:
        properties[field.json_name] = _field_schema(field, schemas)
        if _required(field):
            required.append(field.json_name)
    schema: Schema = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    return schema


def _required(field: FieldDescriptor) -> bool:
    """REQUIRED by field_behavior, or a string whose minimum length makes absence invalid."""
    behaviors = field.GetOptions().Extensions[field_behavior_pb2.field_behavior]
    if field_behavior_pb2.REQUIRED in behaviors:
        return True
    if field.containing_oneof is not None or field.is_repeated:
        return False
    rules = _rules(field)
    return rules.HasField("string") and rules.string.min_len > 0


def _rules(field: FieldDescriptor) -> validate_pb2.FieldRules:
    """The field's protovalidate rules (empty when it has none)."""
    options: Any = field.GetOptions()
    rules: validate_pb2.FieldRules = options.Extensions[validate_pb2.field]
    return rules


def _is_map(field: FieldDescriptor) -> bool:
    message = field.message_type
    return field.is_repeated and message is not None and message.GetOptions().map_entry


def _field_schema(field: Any, schemas: dict[str, Schema]) -> Schema:
    rules = _rules(field)
    if _is_map(field):
        value = field.message_type.fields_by_name["value"]
        return {"type": "object", "additionalProperties": _single_schema(value, None, schemas)}
    if field.is_repeated:
        item_rules = rules.repeated.items if rules.HasField("repeated") else None
        schema: Schema = {"type": "array", "items": _single_schema(field, item_rules, schemas)}
        if rules.HasField("repeated"):
            if rules.repeated.HasField("max_items"):
                schema["maxItems"] = rules.repeated.max_items
            if rules.repeated.HasField("min_items"):
                schema["minItems"] = rules.repeated.min_items
        return schema
    return _single_schema(field, rules, schemas)


def _single_schema(
    field: FieldDescriptor, rules: validate_pb2.FieldRules | None, schemas: dict[str, Schema]
) -> Schema:
    kind = field.type
    if field.message_type is not None:
        schema = _message_ref(field.message_type, schemas)
        if rules is not None and rules.HasField("duration") and rules.duration.HasField("const"):
            return {"type": "string", "enum": [_duration_text(rules.duration.const)]}
        return schema
    if field.enum_type is not None:
        return {"type": "string", "enum": [value.name for value in field.enum_type.values]}
    if kind == FieldDescriptor.TYPE_STRING:
        return _string_schema(rules)
    if kind == FieldDescriptor.TYPE_BOOL:
        return {"type": "boolean"}
    if kind == FieldDescriptor.TYPE_BYTES:
        return {"type": "string", "format": "byte"}
    if kind in (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT):
        return {"type": "number"}
    if kind in _INT64:
        return {"type": "string", "format": "int64", "pattern": r"^-?[0-9]{1,18}$"}
    if kind in _UINT64:
        return {"type": "string", "format": "uint64", "pattern": r"^[0-9]{1,19}$"}
    if kind in _INT32:
        return {"type": "integer", "format": "int32", "minimum": -(2**31), "maximum": 2**31 - 1}
    return _uint32_schema(rules)


def _string_schema(rules: validate_pb2.FieldRules | None) -> Schema:
    schema: Schema = {"type": "string"}
    if rules is None or not rules.HasField("string"):
        return schema
    string = rules.string
    if string.HasField("min_len"):
        schema["minLength"] = string.min_len
    if string.HasField("max_len"):
        schema["maxLength"] = string.max_len
    if string.HasField("email") and string.email:
        schema["format"] = "email"
    return schema


def _uint32_schema(rules: validate_pb2.FieldRules | None) -> Schema:
    schema: Schema = {"type": "integer", "format": "int64", "minimum": 0, "maximum": 2**32 - 1}
    if rules is not None and rules.HasField("uint32"):
        limits = rules.uint32
        if limits.HasField("lte"):
            schema["maximum"] = limits.lte
        if limits.HasField("lt"):
            schema["maximum"] = limits.lt - 1
        if limits.HasField("gte"):
            schema["minimum"] = limits.gte
        if limits.HasField("gt"):
            schema["minimum"] = limits.gt + 1
    return schema


def _duration_text(value: Any) -> str:
    seconds, nanos = int(value.seconds), int(value.nanos)
    if not nanos:
        return f"{seconds}s"
    return f"{seconds}.{abs(nanos):09d}".rstrip("0") + "s"
