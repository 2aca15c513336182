from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from litestar.testing import AsyncTestClient
from pdf_service.server.app import create_app
from pdf_service.settings import PdfServiceSettings
from shared.auth import issue_token


@pytest.fixture
def pdf_settings(mongodb_url: str, redis_url: str, unique_name: str) -> PdfServiceSettings:
    return PdfServiceSettings(
        environment="test",
        mongodb_url=mongodb_url,
        redis_url=redis_url,
        mongodb_db=f"t_pdf_{unique_name}",
        log_json=False,
        event_stream_prefix=f"t{unique_name}:",
        event_claim_idle_ms=3000,
        render_timeout_seconds=2.0,
    )


@pytest.fixture
async def pdf_client(pdf_settings: PdfServiceSettings) -> AsyncIterator[AsyncTestClient]:
    app = create_app(pdf_settings)
    async with AsyncTestClient(app) as client:
        yield client


@pytest.fixture
def token_for(pdf_settings: PdfServiceSettings):
    """Authorization headers for a user of an empresa (tokens as core-api issues them)."""

    def make(empresa_id: str, role: str = "user") -> dict[str, str]:
        token, _ = issue_token(
            pdf_settings, user_id="u-" + empresa_id, empresa_id=empresa_id, role=role, typ="access"
        )  # type: ignore[arg-type]
        return {"Authorization": f"Bearer {token}"}

    return make


async def wait_until(predicate, timeout: float = 20.0, interval: float = 0.05):
    """Poll an async predicate until it returns something truthy."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        result = await predicate()
        if result:
            return result
        if loop.time() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        await asyncio.sleep(interval)
