"""The core-api application factories.

`create_app` is the public API (what the gateway routes to, on CORE_API_PORT). `create_internal_app`
serves the service-to-service routes (/api/v1/internal/...) and nothing else; `create_server_app`
puts both in one process behind `ListenerDispatch`, which picks the app by the local port a connection
arrived on, so the internal routes exist only on CORE_API_INTERNAL_PORT.
"""

from __future__ import annotations

from typing import Any

from litestar import Litestar
from litestar.datastructures import State
from litestar.plugins.pydantic import PydanticPlugin
from litestar.types import Receive, Scope, Send
from shared.app import build_app, service_app_config
from shared.infra import infra_lifespan, redis_client
from shared.metrics import initialise_series

from core_api.domain import all_controllers, all_documents, all_on_close, all_on_ready, all_plugins
from core_api.domain.documentos import internal_controllers
from core_api.domain.users.state import UserStates
from core_api.lib.cache import ResponseCacheMiddleware, TenantCache
from core_api.lib.csv_export import document_csv_lists
from core_api.lib.idempotency import IdempotencyMiddleware, document_idempotency_key
from core_api.server.auth import jwt_auth
from core_api.server.cli import CoreApiCLIPlugin
from core_api.settings import CoreApiSettings


def create_app(settings: CoreApiSettings | None = None) -> Litestar:
    """Build the app; tests pass their own settings, servers read the environment."""
    settings = settings or CoreApiSettings()
    initialise_series(entities=True, renderers=("legacy",))  # series exist from the first scrape
    # the read cache has its own Redis client (short timeouts, fail-open): see core_api.lib.cache
    cache = TenantCache(redis_client(settings), enabled=settings.cache_enabled)

    async def close_cache() -> None:
        await cache.close()
        await cache.redis.aclose()

    config = service_app_config(
        settings,
        title="Outdoor platform — core API",
        description="Tenants, users, regiões, placas, clientes, aluguéis, PIs and contratos.",
        route_handlers=all_controllers(settings),
        lifespan=[
            infra_lifespan(settings, all_documents(), on_ready=all_on_ready(), on_close=all_on_close())
        ],
        auth=jwt_auth(settings),
        middleware=[IdempotencyMiddleware, ResponseCacheMiddleware],
        # cache off (benchmarks, diagnosis): no user state kept either, every request loads its user
        state=State(
            {"cache": cache, "user_states": UserStates(ttl=0 if not settings.cache_enabled else None)}
        ),
        on_shutdown=[close_cache],
        # prefer_alias: responses and OpenAPI use the camelCase names of the HTTP contract
        plugins=[PydanticPlugin(prefer_alias=True), CoreApiCLIPlugin(settings), *all_plugins(settings)],
    )
    app = build_app(config)
    document_idempotency_key(app)
    document_csv_lists(app)
    return app


def create_internal_app(settings: CoreApiSettings, state: State) -> Litestar:
    """The internal listener's app: health and the service-to-service routes, same auth as the public app.

    It has no lifespan of its own: `state` is the public app's (MongoDB, Redis, cache), opened and
    closed by the public app's lifespan in the same process.
    """
    config = service_app_config(
        settings,
        title="Outdoor platform — core API (internal)",
        description="Service-to-service routes; never routed by the gateway.",
        route_handlers=internal_controllers(settings),
        auth=jwt_auth(settings),
        state=state,
        plugins=[PydanticPlugin(prefer_alias=True)],
    )
    return build_app(config)


class ListenerDispatch:
    """One ASGI app for two listeners: connections to `internal_port` reach the internal app, all
    others (and the lifespan) the public app. The port is the server socket's own (ASGI `server`),
    which a client cannot choose through a proxy or a header."""

    def __init__(self, public: Litestar, internal: Litestar, internal_port: int) -> None:
        self.public, self.internal, self.internal_port = public, internal, internal_port

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        server: Any = scope.get("server")
        kind: str = scope["type"]
        on_internal = kind != "lifespan" and server is not None and server[1] == self.internal_port
        await (self.internal if on_internal else self.public)(scope, receive, send)


def create_server_app(settings: CoreApiSettings | None = None) -> ListenerDispatch:
    """What `core-api serve` runs: the public app on CORE_API_PORT, the internal one on CORE_API_INTERNAL_PORT."""
    settings = settings or CoreApiSettings()
    public = create_app(settings)
    return ListenerDispatch(public, create_internal_app(settings, public.state), settings.internal_port)
