"""The core-api application factory."""

from __future__ import annotations

from litestar import Litestar
from litestar.datastructures import State
from litestar.plugins.pydantic import PydanticPlugin
from shared.app import build_app, service_app_config
from shared.infra import infra_lifespan, redis_client
from shared.metrics import initialise_series

from core_api.domain import all_controllers, all_documents, all_on_close, all_on_ready, all_plugins
from core_api.lib.cache import (
    RESPONSE_CACHE_STORE,
    FailOpenRedisStore,
    TenantCache,
    TenantCacheMiddleware,
    response_cache_config,
)
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
        middleware=[TenantCacheMiddleware],
        stores={RESPONSE_CACHE_STORE: FailOpenRedisStore(cache.redis, cache.circuit)},
        response_cache_config=response_cache_config(),
        state=State({"cache": cache}),
        on_shutdown=[close_cache],
        # prefer_alias: responses and OpenAPI use the camelCase names of the HTTP contract
        plugins=[PydanticPlugin(prefer_alias=True), CoreApiCLIPlugin(settings), *all_plugins(settings)],
    )
    return build_app(config)
