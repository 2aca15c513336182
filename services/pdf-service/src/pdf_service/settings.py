"""pdf-service settings (shared variables from `shared.settings`, own ones prefixed PDF_SERVICE_)."""

from __future__ import annotations

from pydantic import AliasChoices, Field, model_validator
from shared.settings import BaseServiceSettings


class PdfServiceSettings(BaseServiceSettings):
    service_name: str = "pdf-service"
    host: str = Field(default="127.0.0.1", validation_alias=AliasChoices("PDF_SERVICE_HOST", "HOST"))
    port: int = Field(default=4100, validation_alias="PDF_SERVICE_PORT")
    mongodb_db: str = Field(default="outdoor_pdf", validation_alias="PDF_SERVICE_MONGODB_DB")
    core_api_internal_url: str = Field(
        default="http://127.0.0.1:4001",
        validation_alias="CORE_API_INTERNAL_URL",
        description="core-api's internal listener (CORE_API_INTERNAL_PORT), where the document snapshots are",
    )
    workers: int = Field(
        default=0, validation_alias="PDF_SERVICE_WORKERS", ge=0, description="0 = one per core"
    )
    render_timeout_seconds: float = Field(
        default=30.0,
        validation_alias="PDF_RENDER_TIMEOUT_SECONDS",
        gt=0,
        description="a document still rendering after this is stopped and its job fails",
    )
    worker_concurrency: int = Field(
        default=1,
        validation_alias="PDF_WORKER_CONCURRENCY",
        ge=1,
        description="documents one worker process renders at the same time (one child process each)",
    )

    worker_metrics_host: str = Field(
        default="127.0.0.1",
        validation_alias="PDF_WORKER_METRICS_HOST",
        description="where the PDF worker serves /metrics and /api/v1/health (0.0.0.0 in containers)",
    )
    worker_metrics_port: int = Field(
        default=4101,
        validation_alias="PDF_WORKER_METRICS_PORT",
        ge=0,
        le=65535,
        description="the PDF worker's metrics port (one per worker instance on a host)",
    )

    @property
    def job_lease_seconds(self) -> float:
        """How long a worker owns a job it started: below the claim timeout, so a job whose worker died
        is free again by the time another worker claims its message."""
        return self.event_claim_idle_ms / 1000 * 0.8

    @model_validator(mode="after")
    def _render_fits_in_lease(self) -> PdfServiceSettings:
        if self.render_timeout_seconds >= self.job_lease_seconds:
            raise ValueError(
                "PDF_RENDER_TIMEOUT_SECONDS must be below 80% of EVENT_CLAIM_IDLE_MS, or another worker "
                "could take over a job that is still rendering"
            )
        return self
