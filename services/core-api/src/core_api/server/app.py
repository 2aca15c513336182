"""The core-api application factory."""

from __future__ import annotations

from litestar import Litestar

from core_api.settings import CoreApiSettings
from shared.app import build_app, service_app_config
from shared.infra import infra_lifespan

DOCUMENT_MODELS: list[type] = []


def create_app(settings: CoreApiSettings | None = None) -> Litestar:
    """Build the app; tests pass their own settings, servers read the environment."""
    settings = settings or CoreApiSettings()
    config = service_app_config(
        settings,
        title="Outdoor platform — core API",
        description="Tenants, users, regiões, placas, clientes, aluguéis, PIs and contratos.",
        route_handlers=[],
        lifespan=[infra_lifespan(settings, DOCUMENT_MODELS)],
    )
    return build_app(config)
