"""Settings base shared by every service: read from the environment (12-factor)."""

from __future__ import annotations

from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_JWT_SECRET = "dev-only-jwt-secret-change-me-0123456789abcdef"  # noqa: S105
DEV_METRICS_PASSWORD = "dev-metrics-password"  # noqa: S105
DEV_INTERNAL_TOKEN = "dev-internal-token"  # noqa: S105


class BaseServiceSettings(BaseSettings):
    """Settings common to core-api and pdf-service.

    Shared infrastructure (MongoDB server, Redis, JWT secret) uses unprefixed variables so one
    environment serves the whole stack; each service adds its own prefixed ones.
    Secrets keep development defaults so `make up` (ENVIRONMENT=development) works as is, and are
    refused anywhere else, including when ENVIRONMENT is not set at all (it defaults to production).
    """

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    # production unless told otherwise: a deployment that forgets ENVIRONMENT must not run silently on
    # the public development secrets (it refuses to start without real ones instead); `make up` and
    # the tests say development/test explicitly
    environment: Literal["development", "test", "production", "staging"] = Field(
        default="production", validation_alias=AliasChoices("ENVIRONMENT", "APP_ENV")
    )
    service_name: str = "service"
    host: str = "127.0.0.1"
    port: int = 8000
    mongodb_url: str = Field(default="mongodb://127.0.0.1:27017", validation_alias="MONGODB_URL")
    mongodb_db: str = "app"
    redis_url: str = Field(default="redis://127.0.0.1:6379/0", validation_alias="REDIS_URL")
    broker_url: str | None = Field(
        default=None,
        validation_alias="BROKER_URL",
        description="event broker URL: redis:// (Redis Streams) or amqp:// (RabbitMQ); defaults to REDIS_URL",
    )
    jwt_secret: SecretStr = Field(default=SecretStr(DEV_JWT_SECRET), validation_alias="JWT_SECRET")
    jwt_issuer: str = Field(default="outdoor-core-api", validation_alias="JWT_ISSUER")
    access_token_ttl_seconds: int = Field(default=900, validation_alias="ACCESS_TOKEN_TTL_SECONDS", gt=0)
    refresh_token_ttl_seconds: int = Field(
        default=7 * 24 * 3600, validation_alias="REFRESH_TOKEN_TTL_SECONDS", gt=0
    )
    internal_token: SecretStr = Field(
        default=SecretStr(DEV_INTERNAL_TOKEN),
        validation_alias="INTERNAL_TOKEN",
        description="shared secret for service-to-service calls that carry no user token",
    )
    revocation_timeout_seconds: float = Field(
        default=1.0,
        validation_alias="REVOCATION_TIMEOUT_SECONDS",
        gt=0,
        description="how long a token revocation check waits for Redis before the request is refused (503)",
    )
    auth_key_prefix: str = Field(
        default="auth:",
        validation_alias="AUTH_KEY_PREFIX",
        description="prefix of the token revocation keys and channels in Redis (the same in every service)",
    )
    metrics_username: str = Field(default="metrics", validation_alias="METRICS_USERNAME")
    metrics_password: SecretStr = Field(
        default=SecretStr(DEV_METRICS_PASSWORD), validation_alias="METRICS_PASSWORD"
    )
    log_level: str = Field(default="INFO", validation_alias="LOG_LEVEL")
    log_json: bool = Field(default=True, validation_alias="LOG_JSON")
    max_body_bytes: int = Field(default=1_048_576, validation_alias="MAX_BODY_BYTES", gt=0)
    mongo_timeout_ms: int = Field(default=3000, validation_alias="MONGODB_TIMEOUT_MS", gt=0)
    redis_timeout_seconds: float = Field(default=0.25, validation_alias="REDIS_TIMEOUT_SECONDS", gt=0)
    event_stream_prefix: str = Field(
        default="", validation_alias="EVENT_STREAM_PREFIX", description="prefix of every event stream key"
    )
    event_max_deliveries: int = Field(default=5, validation_alias="EVENT_MAX_DELIVERIES", ge=1)
    event_claim_idle_ms: int = Field(
        default=60_000,
        validation_alias="EVENT_CLAIM_IDLE_MS",
        gt=0,
        description="a message pending this long on a consumer is taken over by another one",
    )
    event_stream_maxlen: int = Field(default=100_000, validation_alias="EVENT_STREAM_MAXLEN", gt=0)

    @property
    def is_development(self) -> bool:
        return self.environment in ("development", "test")

    @property
    def effective_broker_url(self) -> str:
        return self.broker_url or self.redis_url

    @model_validator(mode="after")
    def _refuse_default_secrets(self) -> BaseServiceSettings:
        if self.is_development:
            return self
        defaults = {
            "JWT_SECRET": (self.jwt_secret, DEV_JWT_SECRET),
            "METRICS_PASSWORD": (self.metrics_password, DEV_METRICS_PASSWORD),
            "INTERNAL_TOKEN": (self.internal_token, DEV_INTERNAL_TOKEN),
        }
        bad = [name for name, (value, default) in defaults.items() if value.get_secret_value() == default]
        if bad:
            raise ValueError(
                f"{', '.join(bad)} still hold the development default; set real secrets "
                f"for ENVIRONMENT={self.environment}"
            )
        if len(self.jwt_secret.get_secret_value()) < 32:
            raise ValueError("JWT_SECRET must be at least 32 characters outside development")
        return self
