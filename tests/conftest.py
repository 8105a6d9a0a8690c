"""The fixtures every test package shares, one module per concept in tests/fixtures/."""

import pytest

# Before the plugins below import them: their asserts explain themselves like a test's do.
pytest.register_assert_rewrite("tests.fixtures")

pytest_plugins = [
    "tests.fixtures.database",
    "tests.fixtures.network",
    "tests.fixtures.oauth",
    "tests.fixtures.pki",
    "tests.fixtures.secrets",
    "tests.fixtures.servers",
    "tests.fixtures.smtp",
]
