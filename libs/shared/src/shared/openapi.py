"""OpenAPI of every service: offline docs, and one plugin that makes the contract complete.

`OpenAPIContractPlugin` sees every route as Litestar registers it and documents, on every
operation, the error statuses it can answer with the one error schema (`shared.errors`), and
whether it needs a token. What a handler knows only itself (a 409, a 422) it declares the
Litestar way, `raises=[ConflictException]` or `responses=error_responses(409)`; the statuses every
operation shares are derived here from what Litestar already knows about it (auth, guards, path
parameters, body), so nothing is copied route by route.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from litestar import Litestar
from litestar.config.app import AppConfig
from litestar.handlers import HTTPRouteHandler
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.openapi.spec import (
    Components,
    Link,
    OpenAPI,
    OpenAPIResponse,
    Operation,
    PathItem,
    Reference,
    SecurityScheme,
    Server,
    Tag,
)
from litestar.plugins import InitPluginProtocol, ReceiveRoutePlugin
from litestar.router import Router
from litestar.routes import BaseRoute, HTTPRoute
from litestar.static_files import create_static_files_router
from litestar.types.internal_types import PathParameterDefinition

from shared.errors import error_responses

SWAGGER_DIR = Path(__file__).parent / "static" / "swagger-ui"
SECURITY_SCHEME = "BearerToken"


def operation_id(
    route_handler: HTTPRouteHandler, http_method: Any, _: list[str | PathParameterDefinition]
) -> str:
    """`operationId` = the handler's name in camelCase (`list_regioes` -> `listRegioes`).

    Handler names are unique per service (Litestar refuses duplicate operation ids at startup);
    a handler serving several methods gets the method as a suffix.
    """
    head, *rest = route_handler.handler_name.split("_")
    name = head + "".join(part.title() for part in rest)
    return name if len(route_handler.http_methods) == 1 else f"{name}{http_method.value.title()}"


def openapi_config(
    title: str,
    version: str,
    description: str,
    docs_path: str = "/api/v1/docs",
    tags: list[Tag] | None = None,
    servers: list[Server] | None = None,
) -> OpenAPIConfig:
    """OpenAPI at `{docs_path}` (Swagger UI), JSON at `{docs_path}/openapi.json`, assets served locally."""
    assets = f"{docs_path}/assets"
    return OpenAPIConfig(
        title=title,
        version=version,
        description=description,
        path=docs_path,
        tags=tags,
        servers=servers or [Server(url="/")],
        operation_id_creator=operation_id,
        # a handler's docstring is its operation's description (written for API users)
        use_handler_docstrings=True,
        components=Components(
            security_schemes={
                SECURITY_SCHEME: SecurityScheme(type="http", scheme="bearer", bearer_format="JWT"),
            }
        ),
        render_plugins=[
            SwaggerRenderPlugin(
                path="/",
                js_url=f"{assets}/swagger-ui-bundle.js",
                css_url=f"{assets}/swagger-ui.css",
                standalone_preset_js_url=f"{assets}/swagger-ui-standalone-preset.js",
                favicon=f'<link rel="icon" type="image/png" href="{assets}/favicon-32x32.png" sizes="32x32" />',
            )
        ],
    )


#: what any operation can answer: a malformed request (bad parameter, body, Host header), the
#: gateway's rate limit, and a dependency (database, backend) being away
COMMON_ERRORS = (400, 429, 503)


class OpenAPIContractPlugin(InitPluginProtocol, ReceiveRoutePlugin):
    """Completes each operation's contract as its route is registered (see the module docstring).

    - every operation: 400, 429, 503;
    - behind the token (not matched by `public_paths`, not `exclude_from_auth`): security + 401;
    - with guards: 403; with path parameters: 404 (not found in the caller's empresa);
    - with a request body: 413 (body size limit);
    - whatever the handler `raises=[...]`, with the one error schema instead of Litestar's own.

    A handler's own `responses={...}` win over all of these (e.g. readiness documents its own 503).

    Once every route is in (app startup) the document gets OpenAPI links from each `POST` that
    creates a resource to the operations on that resource's path (`POST /regioes` -> `GET`,
    `PATCH`, `DELETE /regioes/{regiao_id}`), which stateful clients and fuzzers follow; and for a
    service reached under a gateway prefix (`gateway_prefix`), `servers` names that prefix and
    the paths are written relative to it.
    """

    def __init__(
        self,
        public_paths: Sequence[str] = (),
        exclude_opt_key: str = "exclude_from_auth",
        gateway_prefix: str | None = None,
        api_prefix: str = "/api/v1",
        secured: bool = True,
    ) -> None:
        self.secured = secured
        self.public = [re.compile(p) for p in public_paths]
        self.exclude_opt_key = exclude_opt_key
        self.gateway_prefix = gateway_prefix
        self.api_prefix = api_prefix

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        app_config.on_startup = [*app_config.on_startup, self.complete_document]
        if self.gateway_prefix and app_config.openapi_config is not None:
            app_config.openapi_config.servers = [
                Server(
                    url=self.gateway_prefix,
                    description="through the gateway (the service serves it under " + self.api_prefix + ")",
                )
            ]
        return app_config

    def complete_document(self, app: Litestar) -> None:
        """Add the links and rebase the paths; runs once, before the document is first served."""
        document = app.openapi_schema
        add_creation_links(document)
        if self.gateway_prefix:
            document.paths = {
                (path.removeprefix(self.api_prefix) or "/"): item
                for path, item in (document.paths or {}).items()
            }

    def is_public(self, path: str, handler: HTTPRouteHandler) -> bool:
        return bool(handler.opt.get(self.exclude_opt_key)) or any(p.search(path) for p in self.public)

    def receive_route(self, route: BaseRoute) -> None:
        if not isinstance(route, HTTPRoute):
            return
        for handler in route.route_handlers:
            if not handler.resolve_include_in_schema():
                continue
            codes = set(COMMON_ERRORS)
            if self.secured and not self.is_public(route.path, handler):
                codes.add(401)
                handler.security = [*(handler.security or []), {SECURITY_SCHEME: []}]
            if handler.resolve_guards():
                codes.add(403)
            if route.path_parameters:
                codes.add(404)
            if "data" in handler.parsed_fn_signature.parameters:
                codes.add(413)
            codes.update(exc.status_code for exc in handler.raises or [])
            handler.responses = {**error_responses(*sorted(codes)), **(handler.responses or {})}


_METHODS = ("get", "put", "post", "delete", "patch")


def _operations(item: PathItem) -> list[Operation]:
    return [op for m in _METHODS if (op := getattr(item, m, None)) is not None]


def _created_schema_has_id(document: OpenAPI, response: OpenAPIResponse | Reference) -> bool:
    if not isinstance(response, OpenAPIResponse) or not response.content:
        return False
    media = response.content.get("application/json")
    ref = getattr(media, "schema", None)
    if not isinstance(ref, Reference) or document.components is None or not document.components.schemas:
        return False
    schema = document.components.schemas.get(ref.ref.rsplit("/", 1)[-1])
    return bool(schema is not None and schema.properties and "id" in schema.properties)


def add_creation_links(document: OpenAPI) -> None:
    """Link every `POST {collection}` answering 201 with an `id` to `{collection}/{param}...` operations."""
    paths = document.paths or {}
    for collection, item in paths.items():
        post = item.post
        created = (post.responses or {}).get("201") if post else None
        if post is None or created is None or not _created_schema_has_id(document, created):
            continue
        assert isinstance(created, OpenAPIResponse)
        links: dict[str, Link | Reference] = dict(created.links or {})
        for path, other in paths.items():
            match = re.match(re.escape(collection) + r"/\{([^}/]+)\}(/|$)", path)
            if not match:
                continue
            for op in _operations(other):
                if op.operation_id:
                    links[op.operation_id] = Link(
                        operation_id=op.operation_id,
                        parameters={match.group(1): "$response.body#/id"},
                        description=f"the {match.group(1)} of the resource just created",
                    )
        created.links = links or None


def swagger_assets_router(docs_path: str = "/api/v1/docs") -> Router:
    """Static route for the vendored Swagger UI files (no CDN)."""
    return create_static_files_router(
        path=f"{docs_path}/assets",
        directories=[SWAGGER_DIR],
        include_in_schema=False,
        opt={"exclude_from_auth": True},
        name=f"swagger-assets{docs_path.replace('/', '-')}",
    )
