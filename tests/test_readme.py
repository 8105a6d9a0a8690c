"""The README is the user's reference: every setting and every mailgate error id must be in it."""

import re
import shlex
from pathlib import Path

import pytest

from mailgate.cli import _parser
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


def _invocations() -> list[tuple[str, str]]:
    """(path before `mailgate`, its arguments) for every run of the command in the README's sh blocks."""
    found = []
    for block in re.findall(r"```sh\n(.*?)```", README, re.S):
        for line in block.replace("\\\n", " ").splitlines():
            for match in re.finditer(r"(?:^|(?<=[\s(]))([^\s(=]*)\bmailgate(?=\s|$)([^|#;)\n]*)", line):
                found.append((match.group(1), match.group(2).strip()))
    return found


def test_every_mailgate_command_in_the_readme_runs_as_written() -> None:
    # After `make run` or `make test` the command is in .venv/bin, not on PATH.
    invocations = _invocations()
    assert len(invocations) >= 3, invocations  # the pattern still finds them
    for path, arguments in invocations:
        assert path == ".venv/bin/", f"`{path}mailgate {arguments}` is not runnable after make run"
        try:
            _parser().parse_args(shlex.split(arguments))
        except SystemExit as exit:
            pytest.fail(f"`mailgate {arguments}` is not a valid command line ({exit.code})")
