"""Okta's Email Servers API (/api/v1/email-servers) over the same domain services as ZITADEL's API.

`router.OktaApp` is the ASGI app the HTTP port mounts; `openapi` adds its routes to the document.
"""
