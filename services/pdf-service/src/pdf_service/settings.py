"""pdf-service settings (shared variables from `shared.settings`, own ones prefixed PDF_SERVICE_)."""

from __future__ import annotations

from pydantic import AliasChoices, Field
from shared.settings import BaseServiceSettings


class PdfServiceSettings(BaseServiceSettings):
    service_name: str = "pdf-service"
    host: str = Field(default="127.0.0.1", validation_alias=AliasChoices("PDF_SERVICE_HOST", "HOST"))
    port: int = Field(default=4100, validation_alias="PDF_SERVICE_PORT")
    mongodb_db: str = Field(default="outdoor_pdf", validation_alias="PDF_SERVICE_MONGODB_DB")
    core_api_url: str = Field(default="http://127.0.0.1:4000", validation_alias="CORE_API_URL")
    workers: int = Field(
        default=0, validation_alias="PDF_SERVICE_WORKERS", ge=0, description="0 = one per core"
    )
