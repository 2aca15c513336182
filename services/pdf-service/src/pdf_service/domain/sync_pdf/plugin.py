"""Registers the synchronous PDF routes on pdf-service's app: the controller, its dependencies
(`pdf_snapshots`: the core-api client; `pdf_renderer`: the isolated render pool) and their shutdown."""

from __future__ import annotations

from litestar.config.app import AppConfig
from litestar.di import Provide
from litestar.plugins import InitPluginProtocol
from shared.documents.isolated import IsolatedRenderer

from pdf_service.domain.sync_pdf.controllers import SyncPdfController
from pdf_service.domain.sync_pdf.snapshots import CoreApiSnapshots
from pdf_service.settings import PdfServiceSettings

#: renders one HTTP worker process runs at a time (each in its own child process)
MAX_PARALLEL_RENDERS = 2


class SyncPdfPlugin(InitPluginProtocol):
    def __init__(self, settings: PdfServiceSettings) -> None:
        self.snapshots = CoreApiSnapshots(settings)
        self.renderer = IsolatedRenderer(
            timeout=settings.render_timeout_seconds, max_parallel=MAX_PARALLEL_RENDERS
        )

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        app_config.route_handlers.append(SyncPdfController)
        app_config.dependencies.update(
            {
                "pdf_snapshots": Provide(lambda: self.snapshots, sync_to_thread=False),
                "pdf_renderer": Provide(lambda: self.renderer, sync_to_thread=False),
            }
        )
        app_config.on_shutdown.append(self.snapshots.aclose)
        return app_config
