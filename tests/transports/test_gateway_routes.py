"""Every REST route of the 24 email RPCs (and the 3 event RPCs' bindings), called over real HTTP, with
golden JSON for the response shapes.

Goldens show what ZITADEL's gateway prints: lowerCamelCase names, unpopulated fields left out,
64-bit integers as strings (`sequence`, `totalResult`), enums by name.
"""

from __future__ import annotations

import httpx

from mailgate.transports.gateway.routes import RouteTable
from tests.fixtures.servers import RunningServer
from tests.transports.conftest import SMTP, add_smtp, assert_status_json, bearer, normalize

CHANGE = {"details": {"sequence": "1", "changeDate": "<time>", "resourceOwner": "<instance>"}}


def details(sequence: int, created: bool = True) -> dict[str, str]:
    out = {"sequence": str(sequence), "changeDate": "<time>", "resourceOwner": "<instance>"}
    if created:
        out["creationDate"] = "<time>"
    return out


def smtp_view(**extra: object) -> dict[str, object]:
    return {
        "senderAddress": "noreply@example.com",
        "senderName": "Example",
        "host": "smtp.example.com:587",
        **extra,
    }


async def test_route_table_is_the_zitadel_email_api(server: RunningServer) -> None:
    routes: RouteTable = server.app.routes
    bound = {
        (route.http_method, route.served_template, route.spec.name)
        for route in routes.routes
        if route.spec.service == "zitadel.admin.v1.AdminService"
    }
    assert bound == {
        ("GET", "/admin/v1/smtp", "GetSMTPConfig"),
        ("GET", "/admin/v1/smtp/{id}", "GetSMTPConfigById"),
        ("POST", "/admin/v1/smtp", "AddSMTPConfig"),
        ("PUT", "/admin/v1/smtp/{id}", "UpdateSMTPConfig"),
        ("PUT", "/admin/v1/smtp/{id}/password", "UpdateSMTPConfigPassword"),
        ("POST", "/admin/v1/smtp/{id}/_activate", "ActivateSMTPConfig"),
        ("POST", "/admin/v1/smtp/{id}/_deactivate", "DeactivateSMTPConfig"),
        ("DELETE", "/admin/v1/smtp/{id}", "RemoveSMTPConfig"),
        ("POST", "/admin/v1/smtp/{id}/_test", "TestSMTPConfigById"),
        ("POST", "/admin/v1/smtp/_test", "TestSMTPConfig"),
        ("POST", "/admin/v1/smtp/_search", "ListSMTPConfigs"),
        ("POST", "/admin/v1/email/_search", "ListEmailProviders"),
        ("GET", "/admin/v1/email", "GetEmailProvider"),
        ("GET", "/admin/v1/email/{id}", "GetEmailProviderById"),
        ("POST", "/admin/v1/email/smtp", "AddEmailProviderSMTP"),
        ("PUT", "/admin/v1/email/smtp/{id}", "UpdateEmailProviderSMTP"),
        ("POST", "/admin/v1/email/http", "AddEmailProviderHTTP"),
        ("PUT", "/admin/v1/email/http/{id}", "UpdateEmailProviderHTTP"),
        ("PUT", "/admin/v1/email/smtp/{id}/password", "UpdateEmailProviderSMTPPassword"),
        ("POST", "/admin/v1/email/{id}/_activate", "ActivateEmailProvider"),
        ("POST", "/admin/v1/email/{id}/_deactivate", "DeactivateEmailProvider"),
        ("DELETE", "/admin/v1/email/{id}", "RemoveEmailProvider"),
        ("POST", "/admin/v1/email/smtp/{id}/_test", "TestEmailProviderSMTPById"),
        ("POST", "/admin/v1/email/smtp/_test", "TestEmailProviderSMTP"),
        ("POST", "/admin/v1/events/_search", "ListEvents"),
        ("POST", "/admin/v1/events/types/_search", "ListEventTypes"),
        ("POST", "/admin/v1/aggregates/types/_search", "ListAggregateTypes"),
    }


async def test_add_and_get_smtp_provider(server: RunningServer, http: httpx.AsyncClient) -> None:
    auth = await bearer(server)
    added = await http.post(
        "/admin/v1/email/smtp",
        # proto and JSON names both work on input; unknown fields are ignored
        json={
            **SMTP,
            "tls": True,
            "user": "mailer",
            "plain": {"password": "secret"},
            "reply_to_address": "help@example.com",
            "description": "primary",
            "notAField": 1,
        },
        headers=auth,
    )
    assert added.status_code == 200
    assert added.headers["content-type"] == "application/json"
    assert normalize(added.json()) == {"details": details(1, created=False), "id": "<id>"}
    provider_id = added.json()["id"]

    got = await http.get(f"/admin/v1/email/{provider_id}", headers=auth)
    assert got.status_code == 200
    assert normalize(got.json()) == {
        "config": {
            "details": details(1),
            "id": "<id>",
            "state": "EMAIL_PROVIDER_INACTIVE",
            "smtp": smtp_view(tls=True, user="mailer", replyToAddress="help@example.com", plain={}),
            "description": "primary",
        }
    }
    assert got.json()["config"]["id"] == provider_id


async def test_update_smtp_provider_and_password(server: RunningServer, http: httpx.AsyncClient) -> None:
    auth = await bearer(server)
    provider_id = await add_smtp(http, auth, plain={"password": "secret"})
    oauth = {
        "tokenEndpoint": "https://auth.example.com/token",
        "scopes": ["mail.send"],
        "clientCredentials": {"clientId": "mailgate", "clientSecret": "s3cret"},
    }
    updated = await http.put(
        f"/admin/v1/email/smtp/{provider_id}", json={**SMTP, "xoauth2": oauth}, headers=auth
    )
    assert updated.status_code == 200, updated.text
    assert normalize(updated.json()) == {"details": details(2, created=False)}

    got = await http.get(f"/admin/v1/email/{provider_id}", headers=auth)
    # tls=false, empty user and the secret are left out; the client id comes back, the secret never does
    assert normalize(got.json())["config"]["smtp"] == smtp_view(
        xoauth2={
            "tokenEndpoint": "https://auth.example.com/token",
            "scopes": ["mail.send"],
            "clientCredentials": {"clientId": "mailgate"},
        }
    )

    password = await http.put(
        f"/admin/v1/email/smtp/{provider_id}/password", json={"password": "new"}, headers=auth
    )
    assert password.status_code == 200, password.text
    assert normalize(password.json()) == {"details": details(3, created=False)}


async def test_activate_get_active_list_deactivate(server: RunningServer, http: httpx.AsyncClient) -> None:
    auth = await bearer(server)
    provider_id = await add_smtp(http, auth)
    activated = await http.post(f"/admin/v1/email/{provider_id}/_activate", json={}, headers=auth)
    assert activated.status_code == 200, activated.text
    assert normalize(activated.json()) == {"details": details(2)}

    active = await http.get("/admin/v1/email", headers=auth)
    expected_view = {
        "details": details(2),
        "id": "<id>",
        "state": "EMAIL_PROVIDER_ACTIVE",
        "smtp": smtp_view(none={}),
    }
    assert normalize(active.json()) == {"config": expected_view}

    listed = await http.post(
        "/admin/v1/email/_search", json={"query": {"limit": 10, "offset": "0"}}, headers=auth
    )
    assert listed.status_code == 200
    assert normalize(listed.json()) == {
        "details": {"totalResult": "1", "processedSequence": "2", "viewTimestamp": "<time>"},
        "result": [expected_view],
    }

    # the body is optional: no body is an empty request
    deactivated = await http.post(f"/admin/v1/email/{provider_id}/_deactivate", headers=auth)
    assert deactivated.status_code == 200, deactivated.text
    assert normalize(deactivated.json()) == {"details": details(3)}
    assert (await http.get("/admin/v1/email", headers=auth)).status_code == 404


async def test_http_provider_add_update_rotate(server: RunningServer, http: httpx.AsyncClient) -> None:
    auth = await bearer(server)
    added = await http.post(
        "/admin/v1/email/http",
        json={"endpoint": "https://hooks.example.com/mail", "description": "hook"},
        headers=auth,
    )
    assert added.status_code == 200, added.text
    assert normalize(added.json()) == {
        "details": details(1, created=False),
        "id": "<id>",
        "signingKey": "<key>",
    }
    provider_id = added.json()["id"]

    rotated = await http.put(
        f"/admin/v1/email/http/{provider_id}",
        json={"endpoint": "https://hooks.example.com/v2", "expirationSigningKey": "0s"},
        headers=auth,
    )
    assert normalize(rotated.json()) == {"details": details(2, created=False), "signingKey": "<key>"}
    kept = await http.put(
        f"/admin/v1/email/http/{provider_id}", json={"endpoint": "https://hooks.example.com/v3"}, headers=auth
    )
    assert normalize(kept.json()) == {
        "details": details(3, created=False)
    }  # optional signing_key unset: absent

    got = await http.get(f"/admin/v1/email/{provider_id}", headers=auth)
    assert normalize(got.json()) == {
        "config": {
            "details": details(3),
            "id": "<id>",
            "state": "EMAIL_PROVIDER_INACTIVE",
            "http": {"endpoint": "https://hooks.example.com/v3"},
        }
    }


async def test_remove_email_provider(server: RunningServer, http: httpx.AsyncClient) -> None:
    auth = await bearer(server)
    provider_id = await add_smtp(http, auth)
    removed = await http.delete(f"/admin/v1/email/{provider_id}", headers=auth)
    assert removed.status_code == 200, removed.text
    assert normalize(removed.json()) == {"details": details(2, created=False)}
    gone = await http.get(f"/admin/v1/email/{provider_id}", headers=auth)
    assert gone.status_code == 404


async def test_deprecated_smtp_config_routes(server: RunningServer, http: httpx.AsyncClient) -> None:
    auth = await bearer(server)
    added = await http.post(
        "/admin/v1/smtp", json={**SMTP, "user": "mailer", "password": "secret"}, headers=auth
    )
    assert normalize(added.json()) == {"details": details(1, created=False), "id": "<id>"}
    config_id = added.json()["id"]
    view = {"senderAddress": "noreply@example.com", "senderName": "Example", "host": "smtp.example.com:587"}

    got = await http.get(f"/admin/v1/smtp/{config_id}", headers=auth)
    assert normalize(got.json()) == {
        "smtpConfig": {
            "details": details(1),
            **view,
            "user": "mailer",
            "state": "SMTP_CONFIG_INACTIVE",
            "id": "<id>",
        }
    }
    updated = await http.put(
        f"/admin/v1/smtp/{config_id}", json={**SMTP, "user": "mailer", "description": "legacy"}, headers=auth
    )
    assert normalize(updated.json()) == {"details": details(2, created=False)}
    password = await http.put(
        f"/admin/v1/smtp/{config_id}/password", json={"password": "other"}, headers=auth
    )
    assert normalize(password.json()) == {"details": details(3, created=False)}
    activated = await http.post(f"/admin/v1/smtp/{config_id}/_activate", json={}, headers=auth)
    assert normalize(activated.json()) == {"details": details(4)}

    active_view = {
        "details": details(4),
        **view,
        "user": "mailer",
        "state": "SMTP_CONFIG_ACTIVE",
        "description": "legacy",
        "id": "<id>",
    }
    active = await http.get("/admin/v1/smtp", headers=auth)
    assert normalize(active.json()) == {"smtpConfig": active_view}
    listed = await http.post("/admin/v1/smtp/_search", json={}, headers=auth)
    assert normalize(listed.json()) == {
        "details": {"totalResult": "1", "processedSequence": "4", "viewTimestamp": "<time>"},
        "result": [active_view],
    }
    deactivated = await http.post(f"/admin/v1/smtp/{config_id}/_deactivate", json={}, headers=auth)
    assert normalize(deactivated.json()) == {"details": details(5)}
    removed = await http.delete(f"/admin/v1/smtp/{config_id}", headers=auth)
    assert normalize(removed.json()) == {"details": details(6, created=False)}


async def test_test_email_routes_answer_status_json(server: RunningServer, http: httpx.AsyncClient) -> None:
    """The four test RPCs: success, or a Status JSON whose HTTP status follows the code table."""
    auth = await bearer(server)
    # A closed local port: the test fails fast, and nothing leaves the machine.
    local = {**SMTP, "host": "127.0.0.1:1"}
    provider_id = await add_smtp(http, auth, host="127.0.0.1:1")
    calls = [
        ("/admin/v1/email/smtp/_test", {**local, "receiverAddress": "to@example.com"}),
        (f"/admin/v1/email/smtp/{provider_id}/_test", {"receiverAddress": "to@example.com"}),
        ("/admin/v1/smtp/_test", {**local, "receiverAddress": "to@example.com"}),
        (f"/admin/v1/smtp/{provider_id}/_test", {"receiverAddress": "to@example.com"}),
    ]
    for path, body in calls:
        response = await http.post(path, json=body, headers=auth)
        if response.status_code == 200:
            assert response.json() == {}
            continue
        status = assert_status_json(response)
        assert status["message"], path
    # validation runs first, whatever the SMTP side does
    invalid = await http.post(
        "/admin/v1/email/smtp/_test", json={**local, "receiverAddress": "nope"}, headers=auth
    )
    assert invalid.status_code == 400
    assert assert_status_json(invalid)["code"] == 3
