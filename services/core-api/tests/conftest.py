from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from core_api.server.app import create_app
from core_api.settings import CoreApiSettings
from litestar.testing import AsyncTestClient


@pytest.fixture
def core_settings(mongodb_url: str, redis_url: str, unique_name: str) -> CoreApiSettings:
    return CoreApiSettings(
        environment="test",
        mongodb_url=mongodb_url,
        redis_url=redis_url,
        mongodb_db=f"t_core_{unique_name}",
        log_json=False,
    )


@pytest.fixture
async def core_client(core_settings: CoreApiSettings) -> AsyncIterator[AsyncTestClient]:
    app = create_app(core_settings)
    async with AsyncTestClient(app) as client:
        yield client
