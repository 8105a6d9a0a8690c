"""The route table, compiled once at start from the `google.api.http` annotations of the descriptors.

Matching follows grpc-gateway v2: the decoded path is matched segment by segment (so `%2F` separates
segments), `{var}` takes one non-empty segment, `{var=**}` any number, a verb is a `:verb` suffix of
the last segment, and for one HTTP method the most recently registered matching template wins.
Each service is mounted under its own prefix, as ZITADEL's gateway serves AdminService's paths
(written in the proto as `/email/{id}`) under `/admin/v1`.

Only what our protos use is served, and anything else in an annotation stops startup with a
TemplateError naming the method: `response_body`, a `body` other than `"*"`, a body on GET or
DELETE, a path variable that is not a singular string, boolean, integer or enum field, and a route
whose query string could reach a field query.py does not read (maps, floats, bytes, well-known
types, repeated messages).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from google.api import annotations_pb2, http_pb2
from google.protobuf.descriptor import Descriptor, FieldDescriptor, MethodDescriptor, ServiceDescriptor

from mailgate.errors import MailgateError
from mailgate.pipeline.methods import Method
from mailgate.transports.gateway.query import URL_KINDS


class TemplateError(MailgateError, ValueError):
    """A `google.api.http` rule we cannot serve; raised at start, never per request."""


@dataclass(frozen=True)
class Route:
    """One HTTP binding of one RPC."""

    http_method: str
    template: str  # as written in the proto: "/email/{id}"
    spec: Method
    descriptor: MethodDescriptor
    body: str  # "" (fields from the path and the query string) or "*" (the whole message)
    pattern: re.Pattern[str]
    variables: tuple[tuple[str, str], ...]  # (regex group, request field path)
    verb: str
    # Request field paths the query string may not set (the path variables).
    reserved: frozenset[str] = field(default_factory=frozenset)
    prefix: str = ""  # the service's mount point: "/admin/v1"

    @property
    def served_template(self) -> str:
        """The template as requests must spell it: the mount prefix, then the proto's path."""
        return self.prefix + self.template

    @property
    def openapi_path(self) -> str:
        """The served template with each variable as a single `{field.path}` parameter."""
        return re.sub(r"\{([^}=]+)(=[^}]*)?\}", r"{\1}", self.served_template)


@dataclass(frozen=True, slots=True)
class Match:
    route: Route
    params: dict[str, str]  # request field path -> decoded path value


class RouteTable:
    """Routes by HTTP method, in matching order (last registered first)."""

    def __init__(self, routes: Iterable[Route]) -> None:
        self.routes = list(routes)
        self._by_method: dict[str, list[Route]] = {}
        for route in reversed(self.routes):
            self._by_method.setdefault(route.http_method, []).append(route)

    def match(self, http_method: str, path: str) -> Match | None:
        """The winning route for this method and decoded path, or None."""
        for route in self._by_method.get(http_method, ()):
            found = route.pattern.fullmatch(path)
            if found is not None:
                return Match(route, {name: found[group] or "" for group, name in route.variables})
        return None

    def allowed_methods(self, path: str) -> list[str]:
        """The HTTP methods that have a route for `path` (to tell 405 from 404)."""
        return sorted(
            method
            for method, routes in self._by_method.items()
            if any(route.pattern.fullmatch(path) for route in routes)
        )


def http_rules(method: MethodDescriptor) -> Iterator[http_pb2.HttpRule]:
    """The method's primary rule, then its additional bindings, as grpc-gateway registers them."""
    options = method.GetOptions()
    if not options.HasExtension(annotations_pb2.http):
        return
    top = options.Extensions[annotations_pb2.http]
    yield top
    for extra in top.additional_bindings:
        if extra.additional_bindings:
            raise TemplateError(f"{method.full_name}: additional_binding in additional_binding not allowed")
        yield extra


def build_routes(mounts: Iterable[tuple[ServiceDescriptor, str]], specs: Mapping[str, Method]) -> RouteTable:
    """Every annotated method that has a spec, of each (service, mount prefix), in proto order."""
    routes: list[Route] = []
    for service, prefix in mounts:
        if prefix and (not prefix.startswith("/") or prefix.endswith("/")):
            raise TemplateError(f"{service.full_name}: mount prefix {prefix!r} must be '' or '/<path>'")
        for method in service.methods:
            spec = specs.get(f"/{service.full_name}/{method.name}")
            if spec is None:
                continue
            routes.extend(_route(method, spec, rule, prefix) for rule in http_rules(method))
    return RouteTable(routes)


def _route(method: MethodDescriptor, spec: Method, rule: http_pb2.HttpRule, prefix: str) -> Route:
    kind = rule.WhichOneof("pattern")
    if kind is None:
        raise TemplateError(f"{method.full_name}: http rule without a pattern")
    if kind == "custom":
        http_method, template = rule.custom.kind.upper(), rule.custom.path
    else:
        http_method, template = kind.upper(), getattr(rule, kind)
    where = f"{method.full_name} {http_method} {prefix}{template}"
    if not template.startswith("/"):
        raise TemplateError(f"{where}: a template starts with '/'")
    # The prefix is matched as literal segments in front of the template.
    regex, variables, verb = compile_template(prefix + template, where)
    _check_body(rule, http_method, where)
    for _, path in variables:
        _path_field(method.input_type, path, where)
    reserved = frozenset(path for _, path in variables)
    if not rule.body:
        _check_query_fields(method.input_type, reserved, "", frozenset(), where)
    return Route(
        http_method=http_method,
        template=template,
        spec=spec,
        descriptor=method,
        body=rule.body,
        pattern=re.compile(regex),
        variables=tuple(variables),
        verb=verb,
        reserved=reserved,
        prefix=prefix,
    )


def _check_body(rule: http_pb2.HttpRule, http_method: str, where: str) -> None:
    if rule.response_body:
        raise TemplateError(f"{where}: response_body {rule.response_body!r} is not supported")
    if rule.body not in ("", "*"):
        raise TemplateError(f'{where}: body {rule.body!r} is not supported, only "*" or none')
    if rule.body and http_method in ("GET", "DELETE"):
        raise TemplateError(f"{where}: a {http_method} route takes no body")


def _top_field(message: Descriptor, name: str, where: str) -> FieldDescriptor:
    found = message.fields_by_name.get(name)
    if found is None:
        raise TemplateError(f"{where}: {message.full_name} has no field {name!r}")
    return found


def _path_field(message: Descriptor, path: str, where: str) -> FieldDescriptor:
    current: Descriptor | None = message
    found: FieldDescriptor | None = None
    for name in path.split("."):
        if current is None or (found is not None and found.is_repeated):
            raise TemplateError(f"{where}: {path!r} goes through a field that is not a singular message")
        found = _top_field(current, name, where)
        current = found.message_type
    assert found is not None
    if found.is_repeated or found.type not in URL_KINDS:
        raise TemplateError(
            f"{where}: path variable {path!r} must be a singular string, bool, integer or enum field"
        )
    return found


def _check_query_fields(
    message: Descriptor, reserved: frozenset[str], prefix: str, outer: frozenset[str], where: str
) -> None:
    """Refuse a route whose query string could reach a field kind query.py does not read."""
    outer = outer | {message.full_name}  # a message that contains itself is checked once per path
    for found in message.fields:
        path = prefix + found.name
        if path in reserved:
            continue
        nested = found.message_type
        if nested is None:
            if found.type not in URL_KINDS:
                raise TemplateError(f"{where}: query parameter {path!r} is a {_kind(found)}, not supported")
            continue
        if nested.GetOptions().map_entry or found.is_repeated or nested.full_name.startswith("google."):
            raise TemplateError(f"{where}: query parameter {path!r} is a {_kind(found)}, not supported")
        if nested.full_name not in outer:
            _check_query_fields(nested, reserved, path + ".", outer, where)


def _kind(found: FieldDescriptor) -> str:
    nested = found.message_type
    if nested is not None and nested.GetOptions().map_entry:
        return "map"
    kind = nested.full_name if nested is not None else _TYPE_NAMES.get(found.type, str(found.type))
    return f"repeated {kind}" if found.is_repeated else kind


_TYPE_NAMES = {
    number: name.removeprefix("TYPE_").lower()
    for name in dir(FieldDescriptor)
    if name.startswith("TYPE_") and isinstance(number := getattr(FieldDescriptor, name), int)
}


# --- templates ---

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")
# RFC 3986 pchar, without the percent-escapes a proto author has no reason to write.
_LITERAL = re.compile(r"[A-Za-z0-9\-._~!$&'()*+,;=:@]+")


def compile_template(template: str, where: str = "") -> tuple[str, list[tuple[str, str]], str]:
    """A regex for the decoded path, its (group, field path) variables, and the verb."""
    where = where or template
    if not template.startswith("/"):
        raise TemplateError(f"{where}: a template starts with '/'")
    body, verb = _split_verb(template[1:])
    tokens = _split_segments(body, where)
    variables: list[tuple[str, str]] = []
    parts: list[tuple[str, bool]] = []
    for token in tokens:
        if token.startswith("{"):
            parts.append(_variable(token, variables, where))
        else:
            parts.append(_segment(token, where))
    _check_double_star_last(tokens, where)
    regex = "/" + _join(parts) + (":" + re.escape(verb) if verb else "")
    return regex, variables, verb


def _split_verb(body: str) -> tuple[str, str]:
    # The verb follows the last ':' - unless a variable closes before it, then the first ':' after '}'.
    closing = body.rfind("}")
    colon = body.find(":", closing + 1) if closing >= 0 else body.rfind(":")
    if colon < 0:
        return body, ""
    return body[:colon], body[colon + 1 :]


def _split_segments(body: str, where: str) -> list[str]:
    tokens: list[str] = []
    current = ""
    depth = 0
    for char in body:
        if char == "{":
            depth += 1
            if depth > 1:
                raise TemplateError(f"{where}: nested variables are not allowed")
        elif char == "}":
            depth -= 1
            if depth < 0:
                raise TemplateError(f"{where}: '}}' without '{{'")
        if char == "/" and depth == 0:
            tokens.append(current)
            current = ""
        else:
            current += char
    if depth:
        raise TemplateError(f"{where}: '{{' without '}}'")
    tokens.append(current)
    if any(token == "" for token in tokens):
        raise TemplateError(f"{where}: empty segment")
    return tokens


def _segment(token: str, where: str) -> tuple[str, bool]:
    """(regex, may match nothing) for a literal, `*` or `**` segment."""
    if token == "*":
        return "[^/]+", False
    if token == "**":
        return ".*", True
    if token.startswith("{"):
        raise TemplateError(f"{where}: variables cannot nest")
    if not _LITERAL.fullmatch(token) or "*" in token:
        raise TemplateError(f"{where}: {token!r} is not a valid literal segment")
    return re.escape(token), False


def _variable(token: str, variables: list[tuple[str, str]], where: str) -> tuple[str, bool]:
    inner = token[1:-1]
    path, _, sub = inner.partition("=")
    if not _IDENT.fullmatch(path):
        raise TemplateError(f"{where}: {path!r} is not a field path")
    if any(existing == path for _, existing in variables):
        raise TemplateError(f"{where}: {path!r} is bound twice")
    group = f"v{len(variables)}"
    variables.append((group, path))
    sub_tokens = sub.split("/") if sub else ["*"]
    parts = [_segment(item, where) for item in sub_tokens]
    joined = _join(parts)
    empty = all(empty for _, empty in parts)
    return f"(?P<{group}>{joined})", empty


def _join(parts: list[tuple[str, bool]]) -> str:
    out = ""
    for index, (regex, empty) in enumerate(parts):
        if index == 0:
            out = regex
        elif empty:
            out += f"(?:/{regex})?"
        else:
            out += "/" + regex
    return out


def _check_double_star_last(tokens: list[str], where: str) -> None:
    flat: list[str] = []
    for token in tokens:
        if token.startswith("{"):
            _, _, sub = token[1:-1].partition("=")
            flat.extend(sub.split("/") if sub else ["*"])
        else:
            flat.append(token)
    if "**" in flat[:-1]:
        raise TemplateError(f"{where}: '**' must be the last segment")
