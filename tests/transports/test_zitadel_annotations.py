"""Our descriptors carry ZITADEL's own `google.api.http` annotations; the gateway mounts them under /admin/v1.

The table is ZITADEL's proto/zitadel/admin.proto, copied by hand: verb, path as ZITADEL writes it
(relative to the gateway's `/admin/v1` mount) and body. Both the descriptors a client fetches by
server reflection and the ones in the shipped stubs must match it.
"""

from __future__ import annotations

import asyncio

import grpc
import httpx
import pytest
from google.api import annotations_pb2
from google.protobuf import descriptor_pb2
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from mailgate.gen.zitadel import admin_pb2
from tests.fixtures.servers import RunningServer
from tests.transports.conftest import bearer

# The server tests need one store only: annotations do not depend on it.
sqlite_only = pytest.mark.parametrize("backend", ["sqlite"])

ADMIN_SERVICE = "zitadel.admin.v1.AdminService"
ZITADEL_HTTP_RULES = {
    "GetSMTPConfig": ("get", "/smtp", ""),
    "GetSMTPConfigById": ("get", "/smtp/{id}", ""),
    "AddSMTPConfig": ("post", "/smtp", "*"),
    "UpdateSMTPConfig": ("put", "/smtp/{id}", "*"),
    "UpdateSMTPConfigPassword": ("put", "/smtp/{id}/password", "*"),
    "ActivateSMTPConfig": ("post", "/smtp/{id}/_activate", "*"),
    "DeactivateSMTPConfig": ("post", "/smtp/{id}/_deactivate", "*"),
    "RemoveSMTPConfig": ("delete", "/smtp/{id}", ""),
    "TestSMTPConfigById": ("post", "/smtp/{id}/_test", "*"),
    "TestSMTPConfig": ("post", "/smtp/_test", "*"),
    "ListSMTPConfigs": ("post", "/smtp/_search", "*"),
    "ListEmailProviders": ("post", "/email/_search", "*"),
    "GetEmailProvider": ("get", "/email", ""),
    "GetEmailProviderById": ("get", "/email/{id}", ""),
    "AddEmailProviderSMTP": ("post", "/email/smtp", "*"),
    "UpdateEmailProviderSMTP": ("put", "/email/smtp/{id}", "*"),
    "AddEmailProviderHTTP": ("post", "/email/http", "*"),
    "UpdateEmailProviderHTTP": ("put", "/email/http/{id}", "*"),
    "UpdateEmailProviderSMTPPassword": ("put", "/email/smtp/{id}/password", "*"),
    "ActivateEmailProvider": ("post", "/email/{id}/_activate", "*"),
    "DeactivateEmailProvider": ("post", "/email/{id}/_deactivate", "*"),
    "RemoveEmailProvider": ("delete", "/email/{id}", ""),
    "TestEmailProviderSMTPById": ("post", "/email/smtp/{id}/_test", "*"),
    "TestEmailProviderSMTP": ("post", "/email/smtp/_test", "*"),
    "ListEvents": ("post", "/events/_search", "*"),
    "ListEventTypes": ("post", "/events/types/_search", "*"),
    "ListAggregateTypes": ("post", "/aggregates/types/_search", "*"),
}


def _rules(service: descriptor_pb2.ServiceDescriptorProto) -> dict[str, tuple[str, str, str]]:
    """Each method's http rule as (verb, path, body); an annotation we would not expect fails here."""
    found = {}
    for method in service.method:
        rule = method.options.Extensions[annotations_pb2.http]
        assert not rule.additional_bindings and not rule.response_body, method.name
        verb = rule.WhichOneof("pattern")
        assert verb is not None, f"{method.name} has no google.api.http annotation"
        found[method.name] = (verb, getattr(rule, verb), rule.body)
    return found


def _reflected_admin_file(server: RunningServer) -> descriptor_pb2.FileDescriptorProto:
    """admin.proto as a reflection client receives it."""
    with grpc.insecure_channel(server.grpc_target) as channel:
        stub = reflection_pb2_grpc.ServerReflectionStub(channel)
        request = reflection_pb2.ServerReflectionRequest(file_containing_symbol=ADMIN_SERVICE)
        [answer] = list(stub.ServerReflectionInfo(iter([request]), timeout=10))
    for raw in answer.file_descriptor_response.file_descriptor_proto:
        file = descriptor_pb2.FileDescriptorProto.FromString(raw)
        if any(service.name == "AdminService" for service in file.service):
            return file
    raise AssertionError("reflection did not return the file that declares AdminService")


def test_shipped_stubs_carry_zitadels_annotations() -> None:
    file = descriptor_pb2.FileDescriptorProto()
    admin_pb2.DESCRIPTOR.CopyToProto(file)
    [service] = [item for item in file.service if item.name == "AdminService"]
    assert _rules(service) == ZITADEL_HTTP_RULES


@sqlite_only
async def test_reflection_serves_zitadels_annotations(server: RunningServer) -> None:
    file = await asyncio.to_thread(_reflected_admin_file, server)
    [service] = [item for item in file.service if item.name == "AdminService"]
    assert _rules(service) == ZITADEL_HTTP_RULES


@sqlite_only
async def test_gateway_serves_each_rule_under_the_admin_mount(
    server: RunningServer, http: httpx.AsyncClient
) -> None:
    served = {
        (route.http_method, route.served_template)
        for route in server.app.routes.routes
        if route.spec.service == "zitadel.admin.v1.AdminService"
    }
    assert served == {(verb.upper(), "/admin/v1" + path) for verb, path, _ in ZITADEL_HTTP_RULES.values()}
    # The bare ZITADEL path is not a route of its own: only the mounted one answers.
    auth = await bearer(server)
    assert (await http.post("/admin/v1/email/_search", json={}, headers=auth)).status_code == 200
    assert (await http.post("/email/_search", json={}, headers=auth)).status_code == 404
    doc = (await http.get("/openapi.json")).json()
    assert "/admin/v1/email/smtp/_test" in doc["paths"]
    assert not any(path.startswith(("/email", "/smtp")) for path in doc["paths"])
