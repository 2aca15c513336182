"""HTTP metrics and the `/metrics` route, built on Litestar's Prometheus plugin.

- `PrometheusConfig(group_path=True)`: the `path` label is the route template
  (`/api/v1/placas/{placa_id:str}`), never the raw path; unmatched paths (404 before routing) are
  not recorded at all, so a scanner cannot create series.
- `/metrics` is a `PrometheusController` behind HTTP Basic Auth (constant-time comparison); it reads
  every worker's files when `PROMETHEUS_MULTIPROC_DIR` is set (the controller does that itself).
- `METRICS_ENABLED=false` leaves both out (used by the overhead benchmark).
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
from typing import Any

from litestar import Response, get
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware._internal.exceptions import ExceptionHandlerMiddleware
from litestar.plugins.prometheus import PrometheusConfig, PrometheusController, PrometheusMiddleware
from litestar.types import ASGIApp
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest, multiprocess

from shared.metrics import HTTP_BUCKETS
from shared.settings import BaseServiceSettings

METRICS_PATH = "/metrics"
HTTP_METRICS_PREFIX = "http"


def metrics_enabled() -> bool:
    """False when METRICS_ENABLED is 0/false/no/off (default on)."""
    return os.environ.get("METRICS_ENABLED", "true").strip().lower() not in ("0", "false", "no", "off")


class RecordedStatusPrometheusMiddleware(PrometheusMiddleware):
    """Litestar's Prometheus middleware, recording the status the client really gets.

    Litestar turns an exception into a response in an exception-handling layer around the whole
    middleware stack; an error raised by a middleware inside this one (JWT auth's 401, for instance)
    would otherwise pass through here before any response started and be recorded as 200. Putting
    Litestar's own exception handler right inside makes the error a response that this middleware sees.
    """

    def __init__(self, app: ASGIApp, config: PrometheusConfig) -> None:
        super().__init__(ExceptionHandlerMiddleware(app=app, debug=None), config)


def prometheus_config(service_name: str) -> PrometheusConfig:
    """The plugin's config: `http_requests_total`, `http_request_duration_seconds`,
    `http_requests_in_progress`, `http_requests_error_total`, labelled method, path (template),
    status_code and app_name."""
    return PrometheusConfig(
        app_name=service_name,
        prefix=HTTP_METRICS_PREFIX,
        group_path=True,
        buckets=list(HTTP_BUCKETS),
        exclude=[f"^{METRICS_PATH}"],  # scrapes would only add noise to the request series
        middleware_class=RecordedStatusPrometheusMiddleware,
    )


def _unauthorized(detail: str) -> NotAuthorizedException:
    return NotAuthorizedException(detail=detail, headers={"WWW-Authenticate": 'Basic realm="metrics"'})


def basic_auth_guard(username: str, password: str) -> Any:
    """A route guard accepting only `Authorization: Basic` with these credentials (constant time)."""
    expected_user, expected_password = username.encode(), password.encode()

    def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        scheme, _sep, encoded = connection.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "basic" or not encoded:
            raise _unauthorized("metrics need HTTP Basic credentials (METRICS_USERNAME / METRICS_PASSWORD)")
        try:
            user, sep, pwd = base64.b64decode(encoded.strip(), validate=True).partition(b":")
        except (binascii.Error, ValueError):
            raise _unauthorized("malformed Basic credentials") from None
        # compare both, always, so timing does not reveal which one was wrong
        ok_user = secrets.compare_digest(user, expected_user)
        ok_password = secrets.compare_digest(pwd, expected_password)
        if not (sep and ok_user and ok_password):
            raise _unauthorized("wrong metrics credentials")

    return guard


def current_registry() -> CollectorRegistry:
    """The registry to expose: every worker's files in multiprocess mode, else this process's."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return registry
    return REGISTRY


def metrics_controller(settings: BaseServiceSettings) -> type[PrometheusController]:
    """`GET /metrics` (Prometheus text format) behind Basic Auth, outside JWT auth and the docs."""
    guard = basic_auth_guard(settings.metrics_username, settings.metrics_password.get_secret_value())

    class MetricsController(PrometheusController):
        path = METRICS_PATH
        guards = [guard]  # noqa: RUF012
        include_in_schema = False
        opt = {"exclude_from_auth": True}  # noqa: RUF012

        # reading many workers' files is blocking I/O: keep it off the event loop
        @get(sync_to_thread=True, cache=False)
        def get(self) -> Response[bytes]:
            return Response(
                generate_latest(current_registry()),
                status_code=200,
                headers={"Content-Type": CONTENT_TYPE_LATEST},
            )

    return MetricsController
