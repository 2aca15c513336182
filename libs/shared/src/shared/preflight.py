"""OPTIONS answered for every route, before guards, with the route's real methods in `Allow`.

Litestar 2 adds an automatic OPTIONS handler to each path, but (a) it belongs to the controller, so
the controller's guards run on it while authentication skips OPTIONS: an admin-only controller
answered every preflight with a 500 (litestar#2314), and (b) its `Allow` is computed from the
methods registered before the path's last handler was added, so it lists some of them only
(litestar#4169, fixed in Litestar 3). This middleware runs after routing and answers those
automatic OPTIONS requests itself from the app's final routes; explicit OPTIONS handlers, if a
service ever declares one, are left alone.
"""

from __future__ import annotations

from typing import Any

from litestar import Litestar
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.response import Response
from litestar.routes import HTTPRoute
from litestar.status_codes import HTTP_204_NO_CONTENT
from litestar.types import ASGIApp, Receive, Scope, Send

_AUTOMATIC = HTTPRoute.__module__


def allowed_methods(app: Litestar) -> dict[str, str]:
    """Path template (`/api/v1/users/{user_id}`) -> its `Allow` value, from the app's final routes."""
    return {
        route.path_format: ", ".join(sorted(route.methods))
        for route in app.routes
        if isinstance(route, HTTPRoute)
    }


class OptionsMiddleware(ASGIMiddleware):
    scopes = (ScopeType.HTTP,)

    def __init__(self) -> None:
        self._allow: dict[int, dict[str, str]] = {}

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        handler: Any = scope.get("route_handler")
        if scope.get("method") != "OPTIONS" or getattr(handler.fn, "__module__", None) != _AUTOMATIC:
            await next_app(scope, receive, send)
            return
        app: Litestar = scope["litestar_app"]
        allow = self._allow.get(id(app))
        if allow is None:
            allow = self._allow[id(app)] = allowed_methods(app)
        response = Response(
            content=None,
            status_code=HTTP_204_NO_CONTENT,
            headers={"Allow": allow.get(scope.get("path_template", ""), "OPTIONS")},
        )
        await response.to_asgi_response(app=None, request=app.request_class(scope, receive, send))(
            scope, receive, send
        )
