"""The parts every service's Litestar app has in common."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from beanie.exceptions import CollectionWasNotInitialized
from litestar import Litestar
from litestar.config.app import AppConfig
from litestar.exceptions import HTTPException
from litestar.security.base import AbstractSecurityConfig
from litestar.types import ControllerRouterHandler, Middleware
from pymongo.errors import PyMongoError
from redis.exceptions import RedisError

from shared.errors import (
    ApiRequest,
    http_exception_handler,
    internal_error_handler,
)
from shared.health import HealthCheck, health_controller
from shared.infra import mongo_ping, redis_ping
from shared.logging import RequestIdMiddleware, configure_logging
from shared.metrics_http import metrics_controller, metrics_enabled, prometheus_config
from shared.metrics_process import drain_seconds, is_draining
from shared.openapi import OpenAPIContractPlugin, openapi_config, swagger_assets_router
from shared.preflight import OptionsMiddleware
from shared.settings import BaseServiceSettings
from shared.transient import CancelledRequestMiddleware, TransientRetryMiddleware, transient_error_handler


async def _not_draining(_: Any) -> None:
    if is_draining():
        raise RuntimeError("shutting down: draining before exit")


def service_app_config(
    settings: BaseServiceSettings,
    *,
    title: str,
    description: str,
    route_handlers: Sequence[ControllerRouterHandler],
    docs_path: str = "/api/v1/docs",
    extra_checks: Mapping[str, HealthCheck] | None = None,
    middleware: Sequence[Middleware] = (),
    auth: AbstractSecurityConfig[Any, Any] | None = None,
    gateway_prefix: str | None = None,
    **kwargs: Any,
) -> AppConfig:
    """An AppConfig with request ids, JSON logs, health routes, offline docs and `/metrics` in place.

    Also the HTTP contract both services share: the one error shape (`shared.errors`), OPTIONS
    answered for every route (`shared.preflight`) and a complete OpenAPI (`shared.openapi`).
    `gateway_prefix`: where the public gateway serves this service's API (its OpenAPI `servers`).
    """
    configure_logging(settings.service_name, settings.log_level, settings.log_json)
    checks: dict[str, HealthCheck] = {
        "mongodb": mongo_ping,
        "redis": redis_ping,
        # with a drain period, readiness fails first on SIGTERM (shared.metrics_process)
        **({"shutdown": _not_draining} if drain_seconds() else {}),
        **(extra_checks or {}),
    }
    with_metrics = metrics_enabled()
    config = AppConfig(
        route_handlers=[
            health_controller(settings.service_name, checks),
            swagger_assets_router(docs_path),
            *([metrics_controller(settings)] if with_metrics else []),
            *route_handlers,
        ],
        middleware=[RequestIdMiddleware, *middleware],
        openapi_config=openapi_config(title, "1.0.0", description, docs_path=docs_path),
        request_max_body_size=settings.max_body_bytes,
        request_class=ApiRequest,
        debug=False,
        logging_config=None,
        exception_handlers={
            HTTPException: http_exception_handler,
            Exception: internal_error_handler,
            # a transient database/Redis failure is a 503 with Retry-After, any other one a 500
            PyMongoError: transient_error_handler,
            RedisError: transient_error_handler,
            CollectionWasNotInitialized: transient_error_handler,
            **kwargs.pop("exception_handlers", {}),
        },
        plugins=[
            OpenAPIContractPlugin(
                public_paths=getattr(auth, "exclude", None) or (),
                gateway_prefix=gateway_prefix,
                secured=auth is not None,
            ),
            *kwargs.pop("plugins", []),
        ],
        **kwargs,
    )
    if auth is not None:
        config = auth.on_app_init(config)
        # security is documented per operation (OpenAPIContractPlugin), so public ones show as public
        assert config.openapi_config is not None
        config.openapi_config.security = None
    # request id outermost, then metrics (outside auth, so 401/403 are counted), then the rest
    config.middleware.remove(RequestIdMiddleware)
    metrics_mw = [prometheus_config(settings.service_name).middleware] if with_metrics else []
    config.middleware[0:0] = [
        RequestIdMiddleware,
        CancelledRequestMiddleware,
        *metrics_mw,
        OptionsMiddleware(),
    ]
    # innermost: a read that failed transiently runs again before anything above sees it fail
    config.middleware.append(TransientRetryMiddleware)
    return config


def build_app(config: AppConfig) -> Litestar:
    return Litestar.from_config(config)
