"""core-api settings (shared variables from `shared.settings`, own ones prefixed CORE_API_)."""

from __future__ import annotations

from pydantic import AliasChoices, Field, model_validator
from shared.settings import BaseServiceSettings


class CoreApiSettings(BaseServiceSettings):
    service_name: str = "core-api"
    host: str = Field(default="127.0.0.1", validation_alias=AliasChoices("CORE_API_HOST", "HOST"))
    port: int = Field(default=4000, validation_alias="CORE_API_PORT")
    # service-to-service routes (/api/v1/internal/...) are served only on this second listener, which
    # the gateway never targets (and a NetworkPolicy reaches only from pdf-service in Kubernetes); the
    # public listener does not have those routes at all
    internal_host: str = Field(
        default="127.0.0.1",
        validation_alias="CORE_API_INTERNAL_HOST",
        description="interface of the internal listener (the pod/container network in deployments)",
    )
    internal_port: int = Field(default=4001, validation_alias="CORE_API_INTERNAL_PORT", gt=0, le=65535)
    mongodb_db: str = Field(default="outdoor_core", validation_alias="CORE_API_MONGODB_DB")
    workers: int = Field(default=0, validation_alias="CORE_API_WORKERS", ge=0, description="0 = one per core")
    cache_enabled: bool = Field(
        default=True,
        validation_alias="CORE_API_CACHE_ENABLED",
        description="read caches (Redis response cache, list totals, in-process user state); off only for benchmarks/diagnosis",
    )
    # login rate limits (fixed windows in Redis; see core_api.domain.auth.rate_limit)
    login_max_failures_per_account: int = Field(default=5, validation_alias="LOGIN_MAX_FAILURES", gt=0)
    login_account_window_seconds: int = Field(
        default=900, validation_alias="LOGIN_ACCOUNT_WINDOW_SECONDS", gt=0
    )
    login_max_attempts_per_address: int = Field(
        default=20, validation_alias="LOGIN_MAX_ATTEMPTS_PER_ADDRESS", gt=0
    )
    login_address_window_seconds: int = Field(
        default=60, validation_alias="LOGIN_ADDRESS_WINDOW_SECONDS", gt=0
    )
    legacy_pdf_enabled: bool = Field(
        default=True,
        validation_alias="LEGACY_PDF_ENABLED",
        description="serve GET /pis|contratos/{id}/pdf with the in-process renderer; false rehearses its retirement",
    )
    booking_pending_timeout_seconds: float = Field(
        default=60,
        validation_alias="CORE_API_BOOKING_PENDING_TIMEOUT_SECONDS",
        gt=0,
        description="a booking still pending after this long is considered crashed and undone",
    )
    booking_sweep_interval_seconds: float = Field(
        default=30, validation_alias="CORE_API_BOOKING_SWEEP_INTERVAL_SECONDS", gt=0
    )

    @model_validator(mode="after")
    def _internal_listener_is_separate(self) -> CoreApiSettings:
        if self.internal_port == self.port:
            raise ValueError("CORE_API_INTERNAL_PORT must differ from CORE_API_PORT (the public listener)")
        return self
