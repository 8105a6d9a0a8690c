"""`mailgate serve | migrate | token create | token list | token revoke`."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence

from mailgate import logs
from mailgate.config import ConfigError, Settings
from mailgate.secrets import load_master_key
from mailgate.store.database import Database
from mailgate.store.migrate import migrate
from mailgate.store.tokens import TokenRepository

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


def _parser() -> argparse.ArgumentParser:
    from mailgate.pipeline.auth import PERMISSIONS

    parser = argparse.ArgumentParser(prog="mailgate", description="Email providers for identity platforms.")
    parser.add_argument("--data-dir", help="MAILGATE_DATA_DIR")
    parser.add_argument("--database-url", help="MAILGATE_DATABASE_URL")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve gRPC (and HTTP) until SIGTERM/SIGINT")
    serve.add_argument("--grpc-addr", help="MAILGATE_GRPC_ADDR")
    serve.add_argument("--http-addr", help="MAILGATE_HTTP_ADDR")
    commands.add_parser("migrate", help="bring the database schema up to date")
    token = commands.add_parser("token", help="manage API tokens").add_subparsers(
        dest="token_command", required=True
    )
    create = token.add_parser("create", help="create a token; it is printed once, on the last line")
    create.add_argument("--permission", required=True, choices=PERMISSIONS)
    create.add_argument("--instance", default="default", help="instance id (default: default)")
    create.add_argument("--description", default="")
    token.add_parser("list", help="list tokens (never their values)")
    revoke = token.add_parser("revoke", help="revoke a token by id")
    revoke.add_argument("token_id")
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    import os

    env = dict(os.environ)
    for attribute, name in _FLAG_SETTINGS.items():
        value = getattr(args, attribute, None)
        if value:
            env[name] = value
    return Settings.from_env(env)


async def _with_store(settings: Settings, args: argparse.Namespace) -> int:
    load_master_key(settings)  # the same startup check as serve: PostgreSQL needs a key
    db = Database(settings)
    try:
        await migrate(db)
        if args.command == "migrate":
            print("database is up to date")
            return 0
        tokens = TokenRepository(db)
        if args.token_command == "create":
            record, token = await tokens.create(args.instance, args.permission, args.description)
            print(f"created token {record.id} for instance {record.instance_id} with {record.permission}")
            print(token)
        elif args.token_command == "list":
            print("id            instance  permission  created                    revoked")
            for item in await tokens.list():
                revoked = item.revoked_at.isoformat(timespec="seconds") if item.revoked_at else "-"
                created = item.created_at.isoformat(timespec="seconds")
                print(f"{item.id:<13} {item.instance_id:<9} {item.permission:<11} {created:<26} {revoked}")
        elif args.token_command == "revoke":
            if not await tokens.revoke(args.token_id):
                print(f"no active token with id {args.token_id}", file=sys.stderr)
                return 1
            print(f"revoked token {args.token_id}")
        return 0
    finally:
        await db.close()


def main(argv: Sequence[str] | None = None) -> int:
    _quiet_grpc_core()
    from mailgate.transports.grpc import BindError

    args = _parser().parse_args(argv)
    try:
        settings = _settings(args)
        logs.configure(settings.log_level)
        if args.command == "serve":
            from mailgate.app import serve

            asyncio.run(serve(settings))
            return 0
        return asyncio.run(_with_store(settings, args))
    except (ConfigError, BindError) as exc:
        print(f"mailgate: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
