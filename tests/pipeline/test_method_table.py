"""The method table is built once at startup: a missing handler stops startup, and it cannot change."""

from __future__ import annotations

import pytest

from mailgate.api import status
from mailgate.api.zitadel.methods import ADMIN_SERVICE
from mailgate.pipeline.methods import MethodTable, MethodTableError, bind_service
from mailgate.pipeline.stages import VALIDATE


class _Partial:
    """A servicer that forgot one RPC."""

    def __getattr__(self, name: str) -> object:
        if name == "RemoveEmailProvider":
            raise AttributeError(name)

        async def handler(request: object, context: object) -> object:
            raise AssertionError("never called")

        return handler


def test_a_missing_handler_stops_startup_naming_the_rpc() -> None:
    with pytest.raises(
        MethodTableError, match=r"no handler for zitadel\.admin\.v1\.AdminService\.RemoveEmailProvider"
    ):
        bind_service(ADMIN_SERVICE, _Partial(), lambda _: (VALIDATE,), status.encode)


def test_the_table_cannot_be_changed_once_built() -> None:
    class Complete(_Partial):
        def __getattr__(self, name: str) -> object:
            async def handler(request: object, context: object) -> object:
                raise AssertionError("never called")

            return handler

    table = MethodTable(bind_service(ADMIN_SERVICE, Complete(), lambda _: (VALIDATE,), status.encode))
    assert len(table) == len(ADMIN_SERVICE.methods)
    with pytest.raises(TypeError):
        table["/x/Y"] = table[next(iter(table))]  # type: ignore[index]
    with pytest.raises(MethodTableError, match="bound twice"):
        MethodTable([*table.values(), *table.values()])
