from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from litestar.testing import AsyncTestClient
from pdf_service.server.app import create_app
from pdf_service.settings import PdfServiceSettings


@pytest.fixture
def pdf_settings(mongodb_url: str, redis_url: str, unique_name: str) -> PdfServiceSettings:
    return PdfServiceSettings(
        environment="test",
        mongodb_url=mongodb_url,
        redis_url=redis_url,
        mongodb_db=f"t_pdf_{unique_name}",
        log_json=False,
    )


@pytest.fixture
async def pdf_client(pdf_settings: PdfServiceSettings) -> AsyncIterator[AsyncTestClient]:
    app = create_app(pdf_settings)
    async with AsyncTestClient(app) as client:
        yield client
