"""`make demo` (tools/demo.py) as the README tells a user to run it: one email from SendEmail to
the local sink, and the status that says so."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fixtures.processes import clean_env

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.timeout(180)
def test_the_demo_delivers_one_email_and_shows_its_status() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "demo.py")],
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=170,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert re.search(
        r"^status +GET /v1/messages/\d+ -> MESSAGE_STATE_SENT after 1 attempt\(s\): 250 ", out, re.M
    )
    [sunk] = re.findall(
        r"^sink +received 'Verify your email' for ann@example.com, Message-ID (<\S+>)$", out, re.M
    )
    assert f'"internetMessageId": "{sunk}"' in out  # the status names the Message-ID the sink got
    assert "Your code is 123456." not in out  # a body is never shown by the API
