import pytest
from pydantic import ValidationError
from shared.settings import DEV_JWT_SECRET, BaseServiceSettings

pytestmark = pytest.mark.fast  # pure logic: part of `make test-fast`


def test_development_accepts_defaults(monkeypatch):
    monkeypatch.delenv("JWT_SECRET", raising=False)
    s = BaseServiceSettings(environment="development")
    assert s.jwt_secret.get_secret_value() == DEV_JWT_SECRET


def test_production_refuses_default_secrets(monkeypatch):
    for var in ("JWT_SECRET", "METRICS_PASSWORD", "INTERNAL_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    with pytest.raises(ValidationError) as err:
        BaseServiceSettings(environment="production")
    assert "JWT_SECRET" in str(err.value)
    assert "METRICS_PASSWORD" in str(err.value)


def test_production_accepts_real_secrets(monkeypatch):
    monkeypatch.setenv("JWT_SECRET", "x" * 40)
    monkeypatch.setenv("METRICS_PASSWORD", "m-secret")
    monkeypatch.setenv("INTERNAL_TOKEN", "i-secret")
    s = BaseServiceSettings(environment="production")
    assert s.jwt_secret.get_secret_value() == "x" * 40


def test_production_refuses_short_secret(monkeypatch):
    monkeypatch.setenv("JWT_SECRET", "short")
    monkeypatch.setenv("METRICS_PASSWORD", "m-secret")
    monkeypatch.setenv("INTERNAL_TOKEN", "i-secret")
    with pytest.raises(ValidationError, match="at least 32"):
        BaseServiceSettings(environment="production")


def test_environment_variables_are_read(monkeypatch):
    monkeypatch.setenv("REDIS_URL", "redis://example:1/2")
    monkeypatch.setenv("MONGODB_URL", "mongodb://example:3/")
    s = BaseServiceSettings()
    assert s.redis_url == "redis://example:1/2"
    assert s.mongodb_url == "mongodb://example:3/"
    assert s.effective_broker_url == "redis://example:1/2"


def test_environment_defaults_to_production(monkeypatch):
    """A deployment that forgets ENVIRONMENT refuses the development secrets instead of running on them."""
    for var in ("ENVIRONMENT", "APP_ENV", "JWT_SECRET", "METRICS_PASSWORD", "INTERNAL_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    with pytest.raises(ValidationError, match="ENVIRONMENT=production"):
        BaseServiceSettings()
    monkeypatch.setenv("JWT_SECRET", "x" * 40)
    monkeypatch.setenv("METRICS_PASSWORD", "m-secret")
    monkeypatch.setenv("INTERNAL_TOKEN", "i-secret")
    s = BaseServiceSettings()
    assert s.environment == "production"
    assert not s.is_development
