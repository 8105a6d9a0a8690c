"""One process: builds the pieces, binds every listener, serves, and drains on SIGTERM/SIGINT."""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
from collections.abc import Mapping
from dataclasses import dataclass

from prometheus_client import CollectorRegistry

from mailgate.api.mailgate import methods as mailgate_api
from mailgate.api.mailgate.console import ConsoleServicer
from mailgate.api.mailgate.history import HistoryServicer
from mailgate.api.mailgate.providers import ProviderServicer
from mailgate.api.mailgate.servicer import DeliveryServicer
from mailgate.api.okta import openapi as okta_openapi
from mailgate.api.okta.operations import EmailServers
from mailgate.api.okta.router import OktaApp
from mailgate.api.okta.wire import PREFIX as OKTA_PREFIX
from mailgate.api.zitadel import methods as zitadel
from mailgate.api.zitadel.events import EventsApi
from mailgate.api.zitadel.servicer import AdminServicer
from mailgate.config import Settings
from mailgate.delivery.deliver import DeliveryEngine
from mailgate.delivery.sending import Sender
from mailgate.delivery.smtp import SmtpTester
from mailgate.delivery_process.supervisor import DeliveryProcess
from mailgate.history.service import HistoryLog
from mailgate.outbox.metrics import OutboxGauges
from mailgate.outbox.runtime import Delivery
from mailgate.outbox.service import Outbox
from mailgate.pipeline.auth import Authenticator
from mailgate.pipeline.limits import TokenBucket
from mailgate.pipeline.methods import MethodTable
from mailgate.pipeline.runner import Pipeline
from mailgate.pipeline.stages import Limit, sending_limit
from mailgate.providers.commands import ProviderCommands
from mailgate.providers.queries import ProviderQueries
from mailgate.providers.testmail import TestMailService
from mailgate.secrets import SecretBox, load_master_key
from mailgate.store import changes
from mailgate.store.cache import DEFAULT_TTL, TtlCache
from mailgate.store.changes import ChangeListener
from mailgate.store.database import Database, describe_database, listener_dsn
from mailgate.store.health import HealthStore
from mailgate.store.migrate import migrate
from mailgate.store.outbox import OutboxRepository
from mailgate.store.providers import ProviderRepository
from mailgate.store.tokens import TokenRepository
from mailgate.transports.gateway.routes import build_routes
from mailgate.transports.grpc import GrpcServer, server_options
from mailgate.transports.http import HttpServer, MountedApp, build_app
from mailgate.transports.http_connections import ConnectionLimits
from mailgate.transports.metrics import metrics_mount

log = logging.getLogger("mailgate.app")


@dataclass
class Services:
    """Everything a transport needs, built once per process."""

    settings: Settings
    db: Database
    box: SecretBox
    commands: ProviderCommands
    queries: ProviderQueries
    tokens: TokenRepository
    authenticator: Authenticator
    pipeline: Pipeline
    table: MethodTable
    sending: Limit  # the per-instance test-email limit, shared by every API that sends mail
    tests: TestMailService
    outbox: Outbox  # its on_enqueued wakes this process's delivery workers
    delivery: Delivery | DeliveryProcess  # inline workers, or the delivery child's supervisor
    registry: CollectorRegistry  # what /metrics serves (the child's counters are added to it)
    gauges: OutboxGauges
    listener: ChangeListener | None = None
    new_database: bool = False  # migrate found no schema: this start created the database
    history: HistoryLog | None = None  # its watches end when the server stops

    async def close(self) -> None:
        if self.listener is not None:
            await self.listener.stop()
        await self.delivery.close()
        await self.db.close()


async def build_services(
    settings: Settings,
    *,
    token_cache_seconds: float = DEFAULT_TTL,
    sender: Sender | None = None,
    child_env: Mapping[str, str] | None = None,
) -> Services:
    """Open the store (migrating it) and wire the domain and the pipeline.

    `token_cache_seconds`: how long a token revoked elsewhere may keep working here (tests set 0);
    `sender`: what inline delivery workers send through (default: the delivery engine, sharing the
    test emails' outbound policy, TLS trust and token cache); `child_env`: the environment for a
    delivery child (`mailgate serve`; used when MAILGATE_DELIVERY_PROCESS is child and there are workers).
    """
    box = SecretBox(load_master_key(settings))
    db = Database(settings)
    new_database = await migrate(db)
    repo = ProviderRepository(db)
    authenticator = Authenticator(TokenRepository(db), TtlCache(token_cache_seconds))
    commands = ProviderCommands(repo, box, settings.allow_secret_reuse_any_host)
    queries = ProviderQueries(repo)
    tokens = TokenRepository(db)
    sending = sending_limit(TokenBucket(settings.test_rate, settings.test_burst))
    tester = SmtpTester(settings)
    tests = TestMailService(repo, box, tester, settings.allow_secret_reuse_any_host)
    registry = CollectorRegistry()
    gauges = OutboxGauges(db, HealthStore(db))
    registry.register(gauges)
    delivery: Delivery | DeliveryProcess
    if child_env is not None and settings.delivery_process == "child" and settings.delivery_workers > 0:
        # on_change (below) needs `delivery` in turn: looked up when the child first reports.
        delivery = DeliveryProcess(child_env, lambda what: on_change(what))
        if db.is_sqlite:
            db.subscribe(delivery.forward)
    else:
        engine = sender or DeliveryEngine(settings, client=tester)
        delivery = Delivery(settings, db, box, repo, engine, registry)
    outbox = Outbox(OutboxRepository(db, box), repo, box, on_enqueued=delivery.wake)
    history = HistoryLog(db, db.history_bell)
    admin = AdminServicer(commands, queries, tests, EventsApi(history))
    table = MethodTable(
        [
            *zitadel.admin_methods(admin, authenticator, sending),
            *mailgate_api.delivery_methods(
                DeliveryServicer(outbox, settings.delivery_max_attempts), authenticator
            ),
            *mailgate_api.console_methods(ConsoleServicer(tests), authenticator, sending),
            *mailgate_api.history_methods(HistoryServicer(history), authenticator),
            *mailgate_api.provider_methods(ProviderServicer(commands, queries), authenticator),
        ]
    )
    services = Services(
        settings,
        db,
        box,
        commands,
        queries,
        tokens,
        authenticator,
        Pipeline(),
        table,
        sending,
        tests,
        outbox,
        delivery,
        registry,
        gauges,
    )
    services.new_database = new_database
    services.history = history

    # Another process (a replica, or the delivery child) committed a change.
    on_change = changes.reacting(
        {
            changes.PROVIDERS: repo.forget,
            changes.TOKENS: authenticator.forget,
            changes.OUTBOX: delivery.wake,
            changes.HISTORY: db.history_bell.ring,
        }
    )

    if settings.uses_postgres:
        services.listener = ChangeListener(listener_dsn(settings), on_change)
        services.listener.start()
    return services


class App:
    """The running service: every listener bound before any starts answering."""

    def __init__(self, services: Services) -> None:
        self.services = services
        settings = services.settings
        pipeline, table = services.pipeline, services.table
        self.grpc = GrpcServer(pipeline, table, settings.grpc_addr, server_options(settings), settings.tls)
        self.routes = build_routes(
            [
                (zitadel.ADMIN_SERVICE, zitadel.MOUNT),
                (mailgate_api.DELIVERY_SERVICE, mailgate_api.MOUNT),
                (mailgate_api.CONSOLE_SERVICE, mailgate_api.MOUNT),
                (mailgate_api.HISTORY_SERVICE, mailgate_api.MOUNT),
                (mailgate_api.PROVIDER_SERVICE, mailgate_api.MOUNT),
            ],
            table,
        )
        okta = OktaApp(
            pipeline,
            EmailServers(services.commands, services.queries, services.tests),
            settings,
            services.authenticator,
            services.sending,
        )
        delivery = services.delivery
        child = delivery.exposition if isinstance(delivery, DeliveryProcess) else None
        mounts = [
            MountedApp(OKTA_PREFIX, okta, okta_openapi.paths(), okta_openapi.schemas()),
            metrics_mount(services.registry, services.gauges.refresh, child),
        ]
        http_app = build_app(pipeline, table, self.routes, settings, self.grpc.health, mounts)
        limits = ConnectionLimits(
            settings.http_idle_timeout, settings.http_header_timeout, settings.http_max_connections
        )
        self.http = HttpServer(http_app, settings.http_addr, settings.shutdown_grace, limits, settings.tls)

    def bind(self) -> None:
        """Take both addresses before either listener answers; BindError names the one in use."""
        self.grpc.bind()
        self.http.bind()

    async def start(self) -> None:
        await self.grpc.start()
        await self.http.start()
        self.services.delivery.start()
        settings = self.services.settings
        database = describe_database(settings)
        log.info(
            "serving",
            extra={
                "grpc": settings.grpc_addr,
                "grpc_port": self.grpc.port,
                "http": settings.http_addr,
                "http_port": self.http.port,
                "tls": settings.tls is not None,
                "database": database,
            },
        )
        if self.services.new_database:
            # Logged once serving, so that a startup failure stays one line.
            log.warning(
                "created a new, empty database: create tokens for this server with `mailgate token create` "
                "and the same MAILGATE_DATA_DIR (or MAILGATE_DATABASE_URL)",
                extra={"database": database},
            )

    async def stop(self) -> None:
        grace = self.services.settings.shutdown_grace
        if self.services.history is not None:
            self.services.history.close()  # live streams end, so draining need not wait for them
        await asyncio.gather(self.grpc.stop(grace), self.http.stop(), self.services.delivery.stop(grace))
        await self.services.close()
        log.info("stopped")


async def serve(settings: Settings, env: Mapping[str, str]) -> None:
    """Run until SIGTERM or SIGINT, then drain in-flight calls and return; `env` is what the
    settings were read from, for the delivery child."""
    services = await build_services(settings, child_env=env)
    app = App(services)
    try:
        app.bind()
    except Exception:
        await services.close()
        raise
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await app.start()
    # Everything built so far lives as long as the process: keep it out of every GC pass, which
    # would otherwise stall calls now and then while walking these objects.
    gc.freeze()
    await stop.wait()
    log.info("draining", extra={"grace_seconds": settings.shutdown_grace})
    await app.stop()
