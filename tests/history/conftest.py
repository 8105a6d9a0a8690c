"""The Admin API tests' shared servers (one per backend, an instance per test) for the history tests."""

from tests.admin.conftest import admin, backend, reader, server, shared_env, shared_server, stranger

__all__ = ["admin", "backend", "reader", "server", "shared_env", "shared_server", "stranger"]
