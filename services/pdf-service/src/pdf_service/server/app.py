"""The pdf-service application factory (HTTP side)."""

from __future__ import annotations

from litestar import Litestar
from shared.app import build_app, service_app_config
from shared.infra import infra_lifespan

from pdf_service.settings import PdfServiceSettings

DOCS_PATH = "/api/v1/pdf-service/docs"
DOCUMENT_MODELS: list[type] = []


def create_app(settings: PdfServiceSettings | None = None) -> Litestar:
    """Build the app; tests pass their own settings, servers read the environment."""
    settings = settings or PdfServiceSettings()
    config = service_app_config(
        settings,
        title="Outdoor platform — PDF service",
        description="Renders PIs and contratos, keeps the documents, reports PDF job status.",
        route_handlers=[],
        docs_path=DOCS_PATH,
        lifespan=[infra_lifespan(settings, DOCUMENT_MODELS)],
    )
    return build_app(config)
