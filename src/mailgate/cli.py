"""`mailgate serve | migrate | token create | token list | token revoke | history verify | smtp-test`,
and `--version`."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
from collections.abc import Sequence
from importlib import metadata
from typing import TYPE_CHECKING

from mailgate import logs
from mailgate.config import ConfigError, Settings
from mailgate.errors import MailgateError

if TYPE_CHECKING:  # imported where used: grpc must wait for _quiet_grpc_core, and smtp-test needs no store
    from mailgate.delivery.smtp import TestEmail
    from mailgate.history.actor import Actor
    from mailgate.providers.auth import OpenedAuth
    from mailgate.store.database import Database
    from mailgate.store.tokens import TokenRepository

# Exit codes: scripts can tell "the SMTP test (or command) failed" from "the call was wrong".
EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2  # also argparse's code for a bad command line

_FLAG_SETTINGS = {
    "grpc_addr": "MAILGATE_GRPC_ADDR",
    "http_addr": "MAILGATE_HTTP_ADDR",
    "data_dir": "MAILGATE_DATA_DIR",
    "database_url": "MAILGATE_DATABASE_URL",
}


def _quiet_grpc_core() -> None:
    """gRPC's C core logs to stderr by itself (a port in use would add a line beside ours).

    It reads GRPC_VERBOSITY once, when grpc is first imported: so nothing above imports grpc, and
    every caller of this runs before importing it. GRPC_VERBOSITY=error brings the core's logs back.
    """
    os.environ.setdefault("GRPC_VERBOSITY", "NONE")


def _store_options(default: str | None) -> argparse.ArgumentParser:
    """--data-dir and --database-url, for `mailgate` itself and again for each command using the store."""
    options = argparse.ArgumentParser(add_help=False)
    options.add_argument("--data-dir", default=default, help="MAILGATE_DATA_DIR")
    options.add_argument("--database-url", default=default, help="MAILGATE_DATABASE_URL")
    return options


def _parser() -> argparse.ArgumentParser:
    from mailgate.pipeline.auth import PERMISSIONS

    parser = argparse.ArgumentParser(
        prog="mailgate", description="Email providers for identity platforms.", parents=[_store_options(None)]
    )
    parser.add_argument("--version", action="version", version=f"mailgate {_version()}")
    # After the command too (`mailgate token list --data-dir x`); SUPPRESS keeps one given before it.
    store = [_store_options(argparse.SUPPRESS)]
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve gRPC (and HTTP) until SIGTERM/SIGINT", parents=store)
    serve.add_argument("--grpc-addr", help="MAILGATE_GRPC_ADDR")
    serve.add_argument("--http-addr", help="MAILGATE_HTTP_ADDR")
    commands.add_parser("migrate", help="bring the database schema up to date", parents=store)
    token = commands.add_parser("token", help="manage API tokens").add_subparsers(
        dest="token_command", required=True
    )
    create = token.add_parser(
        "create", help="create a token; it is printed once, on the last line", parents=store
    )
    create.add_argument("--permission", required=True, choices=PERMISSIONS)
    create.add_argument("--instance", default="default", help="instance id (default: default)")
    create.add_argument("--description", default="")
    token.add_parser("list", help="list tokens (never their values)", parents=store)
    revoke = token.add_parser("revoke", help="revoke a token by id", parents=store)
    revoke.add_argument("token_id")
    history = commands.add_parser("history", help="the change history").add_subparsers(
        dest="history_command", required=True
    )
    check = history.add_parser(
        "verify",
        help="check each instance's hash chain; report the first edited or deleted event (exit 1)",
        parents=store,
    )
    check.add_argument("--instance", default=None, help="only this instance (default: every instance)")
    _add_smtp_test(commands)
    return parser


def _version() -> str:
    try:
        return metadata.version("mailgate")
    except metadata.PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown"


def _add_smtp_test(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    test = commands.add_parser(
        "smtp-test",
        help="send a test email through an SMTP server and print each stage (no database or server needed)",
        description="Send a test email as the API's test does (same engine, outbound policy, timeouts and "
        "MAILGATE_SMTP_CA_FILE) and print each stage with the server's reply and the redacted "
        "transcript. Exit codes: 0 sent, 1 the test failed, 2 bad usage or settings.",
    )
    test.add_argument("--host", required=True, help="host:port of the SMTP server (IPv6 in brackets)")
    test.add_argument(
        "--tls",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="require TLS: implicit TLS, or STARTTLS if the server answers in plaintext (default); "
        "--no-tls talks plaintext",
    )
    test.add_argument("--from", dest="sender", required=True, metavar="ADDRESS", help="sender address")
    test.add_argument("--from-name", dest="sender_name", default="mailgate", help="sender display name")
    test.add_argument("--to", dest="receiver", required=True, metavar="ADDRESS", help="receiver address")
    test.add_argument(
        "--auth",
        choices=("none", "plain", "xoauth2"),
        help="none, plain (user and password) or xoauth2 (client credentials); "
        "default: xoauth2 with --token-endpoint, plain with --user, else none",
    )
    test.add_argument("--user", default="", help="the SMTP user (for xoauth2: the mailbox)")
    secret = test.add_argument_group(
        "the password or client secret (never on the command line; default: asked on the terminal)"
    ).add_mutually_exclusive_group()
    secret.add_argument("--secret-env", metavar="VARIABLE", help="read it from this environment variable")
    secret.add_argument("--secret-stdin", action="store_true", help="read it from the first line of stdin")
    oauth = test.add_argument_group("xoauth2 (OAuth2 client-credentials grant)")
    oauth.add_argument("--token-endpoint", default="", metavar="URL")
    oauth.add_argument("--client-id", default="")
    oauth.add_argument("--scope", action="append", default=[], help="repeat for several scopes")
    oauth.add_argument(
        "--token-endpoint-auth",
        choices=("basic", "post"),
        default="basic",
        help="send the client secret as HTTP Basic (default) or in the form body",
    )


def _environment(args: argparse.Namespace) -> dict[str, str]:
    """This process's environment with the command line's settings in it (a delivery child's too)."""
    env = dict(os.environ)
    for attribute, name in _FLAG_SETTINGS.items():
        value = getattr(args, attribute, None)
        if value:
            env[name] = value
    return env


def _announce_database(settings: Settings, fresh: bool) -> None:
    """Say on stderr which database a command used (stdout stays the command's own output)."""
    from mailgate.store.database import describe_database

    print(f"mailgate: database {describe_database(settings)}", file=sys.stderr)
    if not fresh:
        return
    if settings.uses_postgres:
        where = "it had no mailgate schema yet"
    else:
        where = (
            "no database was there (MAILGATE_DATA_DIR, default ./mailgate-data, counts from the "
            "working directory)"
        )
    print(
        f"mailgate: warning: created a new, empty database: {where}. A server using another database "
        "will not see this; pass --data-dir or --database-url to use the server's.",
        file=sys.stderr,
    )


async def _with_store(settings: Settings, args: argparse.Namespace) -> int:
    from mailgate.secrets import load_master_key
    from mailgate.store.database import Database
    from mailgate.store.migrate import migrate
    from mailgate.store.tokens import TokenRepository

    load_master_key(settings)  # the same startup check as serve: PostgreSQL needs a key
    db = Database(settings)
    try:
        _announce_database(settings, await migrate(db))
        if args.command == "migrate":
            print("database is up to date")
            return EXIT_OK
        if args.command == "history":
            return await _verify_history(db, args.instance)
        return await _token_command(TokenRepository(db), args)
    finally:
        await db.close()


async def _verify_history(db: Database, instance_id: str | None) -> int:
    """Print each instance's chain; EXIT_FAILED when any link is broken."""
    from mailgate.history.verify import verify

    reports = await verify(db, instance_id)
    for report in reports:
        start = f"after the anchor {report.anchor}" if report.anchor else "from the first event"
        if report.intact:
            print(f"instance {report.instance_id}: {report.checked} events intact {start} to {report.head}")
        else:
            print(f"instance {report.instance_id}: broken at event {report.broken_at}: {report.reason}")
    return EXIT_OK if all(report.intact for report in reports) else EXIT_FAILED


def _cli() -> Actor:
    """The history's actor for a command run here: the command line, with a request id of its own."""
    import secrets

    from mailgate.history.actor import cli_actor

    return cli_actor(secrets.token_hex(8))


async def _token_command(tokens: TokenRepository, args: argparse.Namespace) -> int:
    if args.token_command == "create":
        record, token = await tokens.create(args.instance, args.permission, args.description, actor=_cli())
        print(f"created token {record.id} for instance {record.instance_id} with {record.permission}")
        print(token)
    elif args.token_command == "list":
        print("id            instance  permission  created                    revoked")
        for item in await tokens.list():
            revoked = item.revoked_at.isoformat(timespec="seconds") if item.revoked_at else "-"
            created = item.created_at.isoformat(timespec="seconds")
            print(f"{item.id:<13} {item.instance_id:<9} {item.permission:<11} {created:<26} {revoked}")
    elif args.token_command == "revoke":
        if not await tokens.revoke(args.token_id, actor=_cli()):
            print(f"no active token with id {args.token_id}", file=sys.stderr)
            return EXIT_FAILED
        print(f"revoked token {args.token_id}")
    return EXIT_OK


class UsageError(MailgateError):
    """A command line that cannot run as given; the message says what to change."""


def _smtp_test_email(args: argparse.Namespace) -> TestEmail:
    """The test email `mailgate smtp-test` sends, with its secret read as the options say."""
    from mailgate.delivery.smtp import TestEmail

    return TestEmail(
        host=args.host.strip(),
        tls=args.tls,
        sender_address=args.sender.strip(),
        sender_name=args.sender_name,
        receiver_address=args.receiver.strip(),
        user=args.user,
        auth=_smtp_auth(args),
    )


def _smtp_auth(args: argparse.Namespace) -> OpenedAuth:
    from mailgate.providers.auth import ClientCredentials, NoAuth, PlainAuth, TokenEndpointAuth
    from mailgate.providers.sealing import Secret

    kind = args.auth or ("xoauth2" if args.token_endpoint else "plain" if args.user else "none")
    oauth = {"--token-endpoint": args.token_endpoint, "--client-id": args.client_id, "--scope": args.scope}
    stray = [flag for flag, value in oauth.items() if value and kind != "xoauth2"]
    if stray:
        raise UsageError(f"{', '.join(stray)} only go with --auth xoauth2")
    if kind == "none":
        if args.secret_env or args.secret_stdin:
            raise UsageError("--auth none sends no secret: leave out --secret-env and --secret-stdin")
        return NoAuth()
    needed = {"--user": args.user}
    if kind == "xoauth2":
        needed |= {"--token-endpoint": args.token_endpoint, "--client-id": args.client_id}
    missing = [flag for flag, value in needed.items() if not value]
    if missing:
        raise UsageError(f"--auth {kind} needs {' and '.join(missing)}")
    if kind == "plain":
        return PlainAuth(password=Secret(_read_secret(args, "password")))
    post = args.token_endpoint_auth == "post"
    return ClientCredentials(
        client_id=args.client_id,
        client_secret=Secret(_read_secret(args, "client secret")),
        token_endpoint=args.token_endpoint,
        token_endpoint_auth=TokenEndpointAuth.CLIENT_SECRET_POST
        if post
        else TokenEndpointAuth.CLIENT_SECRET_BASIC,
        scopes=tuple(args.scope),
    )


def _read_secret(args: argparse.Namespace, what: str) -> str:
    """The secret from --secret-env, --secret-stdin or a prompt; never from argv, which `ps` shows."""
    if args.secret_env:
        value = os.environ.get(args.secret_env, "")
        source = f"the environment variable {args.secret_env}"
    elif args.secret_stdin:
        value = sys.stdin.readline().rstrip("\r\n")
        source = "standard input"
    elif sys.stdin.isatty():
        try:
            value = getpass.getpass(f"{what} for {args.user}: ")
        except EOFError:  # Ctrl-D at the prompt
            value = ""
        source = "the prompt"
    else:
        raise UsageError(
            f"the {what} is needed: give --secret-env VARIABLE or --secret-stdin, or run on a terminal"
        )
    if not value:
        raise UsageError(f"no {what} in {source}")
    return value


async def _smtp_test(settings: Settings, email: TestEmail) -> int:
    """Send the test email and print its timeline; EXIT_FAILED when the test failed."""
    from mailgate.delivery import timeline
    from mailgate.delivery.smtp import SmtpTester
    from mailgate.errors import TestFailed

    try:
        report = await SmtpTester(settings).send_test(email)
    except TestFailed as failed:
        print(timeline.render(failed.report))
        print(f"error: {failed.message}")  # the API's message: ZITADEL's text and id
        return EXIT_FAILED
    print(timeline.render(report))
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    _quiet_grpc_core()
    from mailgate.transports.grpc import BindError

    args = _parser().parse_args(argv)
    try:
        env = _environment(args)
        settings = Settings.from_env(env)
        if args.command == "smtp-test":
            # The timeline says what happened; log lines only when asked for with MAILGATE_LOG_LEVEL.
            logs.configure(settings.log_level if os.environ.get("MAILGATE_LOG_LEVEL") else "WARNING")
            return asyncio.run(_smtp_test(settings, _smtp_test_email(args)))
        logs.configure(settings.log_level)
        if args.command == "serve":
            from mailgate.app import serve

            asyncio.run(serve(settings, env))
            return EXIT_OK
        return asyncio.run(_with_store(settings, args))
    except (ConfigError, BindError, UsageError) as exc:
        print(f"mailgate: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
