"""The README is the user's reference: every setting and every mailgate error id must be in it."""

import re
from pathlib import Path

from mailgate.config import settings_table

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def test_every_setting_is_documented():
    missing = [name for name, _, _ in settings_table() if f"`{name}`" not in README]
    assert not missing, f"settings missing from README: {missing}"


def test_every_mailgate_error_id_is_documented():
    source = "\n".join(
        p.read_text() for p in (ROOT / "src" / "mailgate").rglob("*.py") if "gen" not in p.parts
    )
    ids = set(re.findall(r'"(MG-[A-Z0-9-]+)"', source))
    assert ids, "expected mailgate's own error ids in the source"
    missing = sorted(i for i in ids if f"`{i}`" not in README)
    assert not missing, f"error ids missing from README: {missing}"
