"""`mailgate smtp-test` as an operator runs it: the real command against real aiosmtpd servers."""

from __future__ import annotations

import os
import pty
import re
import select
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.fixtures.credentials import CLIENT_ID, CLIENT_SECRET, PASSWORD, SCOPE, USER
from tests.fixtures.network import LOCAL, LOCAL_ALLOW_ENV, free_port
from tests.fixtures.oauth import TokenEndpoint
from tests.fixtures.pki import Pki
from tests.fixtures.processes import clean_env, mailgate_command, run_cli
from tests.fixtures.secrets import secret_forms
from tests.fixtures.smtp import SmtpServer

Mailboxes = dict[str, SmtpServer]  # the session's SMTP servers, by IP: the command resolves for real
PASSWORD_VARIABLE = "SMTP_TEST_SECRET"
PLAIN_STAGES = ["resolve", "connect", "greeting", "ehlo", "auth", "mail_from", "rcpt_to", "data", "quit"]
ROW = re.compile(r"  (ok|FAIL) +(\S+) +\d+ ms(?: +(.*))?")


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str

    @property
    def rows(self) -> list[tuple[str, str, str]]:
        """The timeline's (mark, stage, reply) rows."""
        return [m.groups("") for line in self.stdout.splitlines() if (m := ROW.fullmatch(line))]

    @property
    def stages(self) -> list[str]:
        return [stage for _, stage, _ in self.rows]

    def reply(self, stage: str) -> str:
        return next(reply for _, name, reply in self.rows if name == stage)

    def assert_no_secret(self, *secrets: str) -> None:
        for form in secret_forms([PASSWORD, CLIENT_SECRET, *secrets]):
            assert form not in self.stdout and form not in self.stderr, f"{form[:6]}... leaked"


def smtp_test(args: list[str], tmp_path: Path, stdin: str = "", **settings: str) -> Run:
    """Run `mailgate smtp-test` in an empty directory with only the given MAILGATE_* settings (and
    loopback allowed, which the outbound policy refuses by default)."""
    env = clean_env(MAILGATE_OUTBOUND_ALLOW=LOCAL_ALLOW_ENV, MAILGATE_SMTP_HELO_NAME="client.test")
    env.update(settings)
    done = run_cli(["smtp-test", *args], env, tmp_path, stdin)
    assert "Traceback" not in done.stderr, done.stderr
    assert not (tmp_path / "mailgate-data").exists()  # no database is made or needed
    return Run(done.returncode, done.stdout, done.stderr)


def addresses(receiver: str) -> list[str]:
    return ["--from", "noreply@example.com", "--to", receiver]


def received(mailboxes: Mailboxes, name: str, receiver: str) -> int:
    return len(mailboxes[name].received(receiver))


def test_plaintext_with_a_password_from_an_environment_variable(mailboxes: Mailboxes, tmp_path: Path) -> None:
    receiver = "plain-env@example.com"
    host = f"{LOCAL}:{mailboxes['plain'].port}"
    args = ["--host", host, "--no-tls", "--user", USER, "--secret-env", PASSWORD_VARIABLE]

    run = smtp_test([*args, *addresses(receiver)], tmp_path, **{PASSWORD_VARIABLE: PASSWORD})

    assert run.code == 0, run.stdout + run.stderr
    assert run.stages == PLAIN_STAGES
    assert all(mark == "ok" for mark, _, _ in run.rows)
    assert run.reply("greeting").startswith("220 ")
    assert run.reply("auth").startswith("235 ")
    assert run.reply("quit").startswith("221 ")
    assert f"SMTP test of {host} (address {LOCAL}, tls none, auth PLAIN)" in run.stdout
    assert "C: AUTH PLAIN [redacted]" in run.stdout  # the transcript follows the timeline
    assert run.stdout.rstrip().splitlines()[-1].startswith("OK: the test email was accepted")
    assert received(mailboxes, "plain", receiver) == 1
    run.assert_no_secret()


def test_starttls_trusting_the_ca_file_with_the_password_on_stdin(
    mailboxes: Mailboxes, pki: Pki, tmp_path: Path
) -> None:
    receiver = "starttls@example.com"
    host = f"{LOCAL}:{mailboxes['starttls'].port}"
    args = ["--host", host, "--user", USER, "--secret-stdin", *addresses(receiver)]

    run = smtp_test(args, tmp_path, stdin=PASSWORD + "\n", MAILGATE_SMTP_CA_FILE=str(pki.ca_file))

    assert run.code == 0, run.stdout + run.stderr
    # The implicit-TLS attempt meets a plaintext greeting, so the test reconnects and requires STARTTLS.
    assert run.stages == [
        "resolve",
        "connect",
        "tls",
        "connect",
        "greeting",
        "ehlo",
        "starttls",
        *PLAIN_STAGES[3:],
    ]
    assert run.reply("starttls").startswith("220 ")
    assert "tls starttls, auth PLAIN" in run.stdout
    assert received(mailboxes, "starttls", receiver) == 1
    run.assert_no_secret()


def test_implicit_tls_needs_the_ca_file(mailboxes: Mailboxes, pki: Pki, tmp_path: Path) -> None:
    receiver = "implicit@example.com"
    host = f"{LOCAL}:{mailboxes['implicit'].port}"
    args = ["--host", host, "--user", USER, "--secret-env", PASSWORD_VARIABLE, *addresses(receiver)]
    secret = {PASSWORD_VARIABLE: PASSWORD}

    trusted = smtp_test(args, tmp_path, MAILGATE_SMTP_CA_FILE=str(pki.ca_file), **secret)
    untrusted = smtp_test(args, tmp_path, **secret)

    assert trusted.code == 0, trusted.stdout + trusted.stderr
    assert trusted.stages == ["resolve", "connect", "tls", *PLAIN_STAGES[2:]]
    assert "tls implicit, auth PLAIN" in trusted.stdout
    assert "TLS established" in trusted.stdout
    assert received(mailboxes, "implicit", receiver) == 1
    assert untrusted.code == 1
    assert untrusted.rows == [
        ("ok", "resolve", ""),
        ("ok", "connect", ""),
        ("FAIL", "tls", untrusted.reply("tls")),
    ]
    assert "certificate verification failed" in untrusted.reply("tls")
    assert "(EMAIL-sl39s)" in untrusted.stdout
    trusted.assert_no_secret()
    untrusted.assert_no_secret()


def on_a_terminal(args: list[str], env: dict[str, str], answer: str) -> tuple[int, str]:
    """Run the command on a new pseudo-terminal and type `answer` at its prompt; (exit code, output)."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: the pty is its controlling terminal, as in an operator's shell
        os.execve(mailgate_command()[0], [*mailgate_command(), *args], env)
    shown = b""
    answered = False
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], deadline - time.monotonic())
        try:
            chunk = os.read(fd, 4096) if ready else b""
        except OSError:  # EIO: the child exited and closed the terminal
            chunk = b""
        if not chunk:
            break
        shown += chunk
        if not answered and b"password for" in shown:
            os.write(fd, answer.encode())
            answered = True
    os.close(fd)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), shown.decode(errors="replace")


def test_the_password_is_asked_on_the_terminal_without_echo(mailboxes: Mailboxes, tmp_path: Path) -> None:
    receiver = "prompt@example.com"
    args = ["smtp-test", "--host", f"{LOCAL}:{mailboxes['plain'].port}", "--no-tls", "--user", USER]
    env = clean_env(MAILGATE_OUTBOUND_ALLOW=LOCAL_ALLOW_ENV, MAILGATE_SMTP_HELO_NAME="client.test")

    code, shown = on_a_terminal([*args, *addresses(receiver)], env, PASSWORD + "\n")

    assert code == 0, shown
    assert f"password for {USER}: " in shown
    assert "OK: the test email was accepted" in shown
    assert received(mailboxes, "plain", receiver) == 1
    Run(code, shown, "").assert_no_secret()  # typed without echo


def test_end_of_input_at_the_prompt_is_bad_usage(tmp_path: Path) -> None:
    args = ["smtp-test", "--host", f"{LOCAL}:{free_port()}", "--no-tls", "--user", USER]

    code, shown = on_a_terminal([*args, *addresses("x@example.com")], clean_env(), "\x04")  # Ctrl-D

    assert code == 2, shown
    assert "no password in the prompt" in shown and "Traceback" not in shown


def test_a_bad_password_fails_at_auth_without_showing_it(mailboxes: Mailboxes, tmp_path: Path) -> None:
    wrong = "wr0ng-Passw0rd-41c7"
    args = ["--host", f"{LOCAL}:{mailboxes['plain'].port}", "--no-tls", "--user", USER, "--secret-stdin"]

    run = smtp_test([*args, *addresses("bad-password@example.com")], tmp_path, stdin=wrong + "\n")

    assert run.code == 1
    assert run.stages == ["resolve", "connect", "greeting", "ehlo", "auth"]
    assert run.rows[-1][0] == "FAIL" and run.reply("auth").startswith("535 ")
    assert "FAILED at stage auth" in run.stdout
    assert "(EMAIL-s9kfs)" in run.stdout  # the API's error id for the same failure
    assert received(mailboxes, "plain", "bad-password@example.com") == 0
    run.assert_no_secret(wrong)


def test_xoauth2_client_credentials(
    mailboxes: Mailboxes, pki: Pki, token_endpoint: TokenEndpoint, tmp_path: Path
) -> None:
    receiver = "xoauth2@example.com"
    args = [
        *["--host", f"{LOCAL}:{mailboxes['plain'].port}", "--no-tls", "--user", USER],
        *["--token-endpoint", token_endpoint.url(LOCAL), "--client-id", CLIENT_ID, "--scope", SCOPE],
        *["--secret-env", PASSWORD_VARIABLE, *addresses(receiver)],
    ]
    run = smtp_test(
        args, tmp_path, MAILGATE_SMTP_CA_FILE=str(pki.ca_file), **{PASSWORD_VARIABLE: CLIENT_SECRET}
    )

    assert run.code == 0, run.stdout + run.stderr
    assert run.stages == PLAIN_STAGES
    assert "auth XOAUTH2" in run.stdout
    assert received(mailboxes, "plain", receiver) == 1
    run.assert_no_secret(*mailboxes["plain"].handler.tokens)  # nor the access token


def test_a_refused_port_fails_at_connect(tmp_path: Path) -> None:
    port = free_port()  # nothing listens there

    run = smtp_test(["--host", f"{LOCAL}:{port}", "--no-tls", *addresses("x@example.com")], tmp_path)

    assert run.code == 1
    assert run.rows == [
        ("ok", "resolve", ""),
        ("FAIL", "connect", f"could not connect: {LOCAL}: Connection refused"),
    ]
    assert "(EMAIL-skwos)" in run.stdout


def test_the_outbound_policy_applies(mailboxes: Mailboxes, tmp_path: Path) -> None:
    plain = f"{LOCAL}:{mailboxes['plain'].port}"
    receiver = "policy@example.com"

    metadata_service = smtp_test(["--host", "169.254.169.254:25", *addresses(receiver)], tmp_path)
    denied = smtp_test(
        ["--host", plain, "--no-tls", *addresses(receiver)],
        tmp_path,
        MAILGATE_OUTBOUND_ALLOW="",
        MAILGATE_OUTBOUND_DENY=f"{LOCAL}/32",
    )

    for run in (metadata_service, denied):
        assert run.code == 1
        assert [(mark, stage) for mark, stage, _ in run.rows] == [("ok", "resolve"), ("FAIL", "policy")]
        assert "MAILGATE_OUTBOUND_ALLOW" in run.reply("policy")
        assert "(MG-OUTBOUND-REFUSED)" in run.stdout
    assert received(mailboxes, "plain", receiver) == 0


@pytest.mark.parametrize(
    ("args", "stdin", "problem"),
    [
        (["--user", USER], "", "the password is needed"),  # no terminal to ask on
        (["--user", USER, "--secret-env", "UNSET_VARIABLE"], "", "UNSET_VARIABLE"),
        (["--user", USER, "--secret-stdin"], "\n", "no password in standard input"),
        (["--auth", "none", "--secret-stdin"], PASSWORD, "--auth none sends no secret"),
        (["--auth", "xoauth2", "--user", USER, "--secret-stdin"], "x", "--token-endpoint and --client-id"),
        (["--client-id", CLIENT_ID, "--auth", "plain", "--user", USER], "", "--client-id only go with"),
        (["--password", "on-the-command-line"], "", "unrecognized arguments"),  # never on argv
    ],
)
def test_bad_usage_exits_2_before_connecting(
    tmp_path: Path, args: list[str], stdin: str, problem: str
) -> None:
    port = free_port()

    run = smtp_test(["--host", f"{LOCAL}:{port}", *args, *addresses("x@example.com")], tmp_path, stdin)

    assert run.code == 2
    assert problem in run.stderr
    assert run.stdout == ""
    assert PASSWORD not in run.stderr


def test_a_bad_setting_exits_2(tmp_path: Path) -> None:
    run = smtp_test(
        ["--host", f"{LOCAL}:25", *addresses("x@example.com")], tmp_path, MAILGATE_SMTP_CA_FILE="/nonexistent"
    )

    assert run.code == 2
    assert run.stderr.startswith("mailgate: MAILGATE_SMTP_CA_FILE")
