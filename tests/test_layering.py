"""The domain stays below the wire: providers, delivery and outbox import no gRPC, protobuf or API code."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import mailgate

PACKAGE = Path(mailgate.__file__).parent
DOMAIN = ("providers", "delivery", "outbox", "history")
# What belongs to transports and APIs: the wire's libraries, generated stubs, and the layers above.
FORBIDDEN = ("grpc", "google.protobuf", "google.rpc", "mailgate.gen", "mailgate.api", "mailgate.transports")


def imported_modules(path: Path) -> set[str]:
    """Every module `path` imports, at any depth (functions and TYPE_CHECKING blocks included)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def domain_files() -> list[Path]:
    return sorted(path for folder in DOMAIN for path in (PACKAGE / folder).rglob("*.py"))


def test_the_domain_has_modules_to_check() -> None:
    assert {path.parent.name for path in domain_files()} >= set(DOMAIN)


@pytest.mark.parametrize("path", domain_files(), ids=lambda path: str(path.relative_to(PACKAGE)))
def test_domain_module_imports_nothing_of_the_wire(path: Path) -> None:
    wire = sorted(
        name
        for name in imported_modules(path)
        if any(name == layer or name.startswith(layer + ".") for layer in FORBIDDEN)
    )
    assert wire == [], f"{path.relative_to(PACKAGE)} imports {wire}; encode for the wire in api/ instead"
