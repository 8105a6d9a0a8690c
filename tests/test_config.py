"""Settings parsing: values that cannot work stop startup with one line naming the setting and value."""

from __future__ import annotations

from pathlib import Path

import pytest

from mailgate.config import ConfigError, Settings
from tests.fixtures.processes import clean_env, run_cli

CORS = "MAILGATE_CORS_ORIGINS"


@pytest.mark.parametrize(
    ("value", "origins"),
    [
        ("https://console.example.com", ("https://console.example.com",)),
        ("http://localhost:3000, https://a.example.com", ("http://localhost:3000", "https://a.example.com")),
        # Spelled the way browsers send Origin: lowercase, no default port, IDN in ASCII.
        ("HTTPS://Console.Example.COM:443", ("https://console.example.com",)),
        ("http://127.0.0.1:80", ("http://127.0.0.1",)),
        ("http://[0:0::1]:8080", ("http://[::1]:8080",)),
        ("https://bücher.example", ("https://xn--bcher-kva.example",)),
        ("*", ("*",)),
    ],
)
def test_cors_origins_are_read_as_browsers_send_them(value: str, origins: tuple[str, ...]) -> None:
    assert Settings.from_env({CORS: value}).cors_origins == origins


@pytest.mark.parametrize(
    "value",
    [
        "http://localhost:3000/",  # a trailing slash: no Origin header ever has one
        "localhost:3000",  # no scheme
        "//console.example.com",
        "ftp://console.example.com",
        "null",
        "https://console.example.com/app",
        "https://console.example.com?x=1",
        "https://console.example.com#top",
        "https://admin:secret@console.example.com",
        "https://console.example.com:0",
        "https://console.example.com:65536",
        "https://console.example.com:",
        "https://",
        "https://*.example.com",
        "https://under_score.example.com",
        "http://999.1.1.1",
        "http://[::1",
        "http://[fe80::1%eth0]",
        "https://ok.example.com,http://localhost:3000/",  # one bad origin in a list
        "*, https://console.example.com",  # '*' already means every origin
    ],
)
def test_an_origin_that_can_never_match_is_refused_naming_setting_and_value(value: str) -> None:
    with pytest.raises(ConfigError) as refused:
        Settings.from_env({CORS: value})
    message = str(refused.value)
    assert message.startswith(f"{CORS}: ") and "\n" not in message
    bad = [item.strip() for item in value.split(",")]
    assert any(repr(item) in message for item in bad if item not in ("https://ok.example.com",)), message


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("MAILGATE_HTTP_IDLE_TIMEOUT", "0"),
        ("MAILGATE_HTTP_IDLE_TIMEOUT", "1.5"),  # whole seconds
        ("MAILGATE_HTTP_HEADER_TIMEOUT", "-1"),
        ("MAILGATE_HTTP_MAX_CONNECTIONS", "many"),
        ("MAILGATE_GRPC_IDLE_TIMEOUT", "0"),
        ("MAILGATE_GRPC_MAX_CONNECTION_AGE", "never"),
        ("MAILGATE_GRPC_MAX_CONNECTION_AGE_GRACE", "-5"),
        ("MAILGATE_GRPC_HANDSHAKE_TIMEOUT", "0"),
        ("MAILGATE_GRPC_MAX_STREAMS", "0"),
        ("MAILGATE_GRPC_MAX_CONNECTIONS", "-1"),
    ],
)
def test_connection_limits_must_be_positive(name: str, value: str) -> None:
    with pytest.raises(ConfigError) as refused:
        Settings.from_env({name: value})
    assert refused.value.name == name


@pytest.mark.parametrize(
    ("name", "value", "reason"),
    [
        ("MAILGATE_DELIVERY_PROCESS", "thread", "must be child or inline"),
        ("MAILGATE_DELIVERY_NICE", "20", "must be a whole number from 0 to 19"),
        ("MAILGATE_DELIVERY_NICE", "-5", "must be a whole number from 0 to 19"),  # never above the API
    ],
)
def test_where_and_how_low_delivery_runs_is_checked(name: str, value: str, reason: str) -> None:
    with pytest.raises(ConfigError) as refused:
        Settings.from_env({name: value})
    assert str(refused.value) == f"{name}: {reason}"


def test_delivery_runs_in_a_child_ten_steps_below_the_api_by_default() -> None:
    settings = Settings.from_env({})
    assert (settings.delivery_process, settings.delivery_nice) == ("child", 10)
    assert Settings.from_env({"MAILGATE_DELIVERY_PROCESS": " Inline "}).delivery_process == "inline"


def test_serve_stops_at_a_bad_origin_with_one_line(tmp_path: Path) -> None:
    env = clean_env(
        MAILGATE_DATA_DIR=str(tmp_path / "data"),
        MAILGATE_CORS_ORIGINS="http://localhost:3000/",
        MAILGATE_GRPC_ADDR="127.0.0.1:0",
        MAILGATE_HTTP_ADDR="127.0.0.1:0",
    )
    result = run_cli(["serve"], env)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"mailgate: {CORS}: 'http://localhost:3000/' is not an origin of the form scheme://host[:port]: "
        "nothing may follow the host and port, not even a trailing /"
    ]
    assert not (tmp_path / "data").exists()  # stopped before touching anything
