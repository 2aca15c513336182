"""OpenAPI docs that work offline: Swagger UI assets are served by the service itself."""

from __future__ import annotations

from pathlib import Path

from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme, Tag
from litestar.router import Router
from litestar.static_files import create_static_files_router

SWAGGER_DIR = Path(__file__).parent / "static" / "swagger-ui"


def openapi_config(
    title: str, version: str, description: str, docs_path: str = "/api/v1/docs", tags: list[Tag] | None = None
) -> OpenAPIConfig:
    """OpenAPI at `{docs_path}` (Swagger UI), JSON at `{docs_path}/openapi.json`, assets served locally."""
    assets = f"{docs_path}/assets"
    return OpenAPIConfig(
        title=title,
        version=version,
        description=description,
        path=docs_path,
        tags=tags,
        components=Components(
            security_schemes={
                "BearerToken": SecurityScheme(type="http", scheme="bearer", bearer_format="JWT"),
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


def swagger_assets_router(docs_path: str = "/api/v1/docs") -> Router:
    """Static route for the vendored Swagger UI files (no CDN)."""
    return create_static_files_router(
        path=f"{docs_path}/assets",
        directories=[SWAGGER_DIR],
        include_in_schema=False,
        opt={"exclude_from_auth": True},
        name=f"swagger-assets{docs_path.replace('/', '-')}",
    )
