"""The pdf-service application factory (HTTP side; the worker is `pdf_service.worker`)."""

from __future__ import annotations

from litestar import Litestar
from shared.app import build_app, service_app_config
from shared.auth import build_jwt_auth
from shared.infra import infra_lifespan
from shared.metrics import initialise_series

from pdf_service.domain.jobs.controllers import DocumentController
from pdf_service.domain.jobs.models import PdfJob
from pdf_service.domain.sync_pdf import SyncPdfPlugin
from pdf_service.lib.storage import DocumentStore
from pdf_service.settings import PdfServiceSettings

#: the public prefix of this service at the gateway (`/api/v1/pdf-service/X` reaches `/api/v1/X` here)
GATEWAY_PREFIX = "/api/v1/pdf-service"
DOCS_PATH = f"{GATEWAY_PREFIX}/docs"
DOCUMENT_MODELS: list[type] = [PdfJob]


async def _open_store(app: Litestar) -> None:
    await DocumentStore(app.state.db).ensure_indexes()


def create_app(settings: PdfServiceSettings | None = None) -> Litestar:
    """Build the app; tests pass their own settings, servers read the environment."""
    settings = settings or PdfServiceSettings()
    initialise_series(renderers=("pdf-service",))  # series exist from the first scrape (sync route)
    config = service_app_config(
        settings,
        title="Outdoor platform — PDF service",
        description="Renders PIs and contratos and keeps the documents (PDF job status: core-api).",
        route_handlers=[DocumentController],
        docs_path=DOCS_PATH,
        gateway_prefix=GATEWAY_PREFIX,
        auth=build_jwt_auth(settings),
        lifespan=[infra_lifespan(settings, DOCUMENT_MODELS, on_ready=[_open_store])],
        plugins=[SyncPdfPlugin(settings)],  # GET /pis|contratos/{id}/pdf (strangler fig, new path)
    )
    return build_app(config)
