from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from devstack.polling import wait_until
from litestar.testing import AsyncTestClient
from pdf_service.server.app import create_app
from pdf_service.settings import PdfServiceSettings
from shared.auth import issue_token

__all__ = ["wait_until"]  # the shared poller, re-exported for the tests of this service

#: the render time limit of the tests: no healthy render reaches it, even on a machine whose cores are
#: all busy (a test that wants a render to time out sets its own with `@pytest.mark.pdf_timing`)
RENDER_TIMEOUT_SECONDS = 60.0
#: a job's lease (80 % of this) must outlast the render time limit (PdfServiceSettings checks it)
CLAIM_IDLE_MS = 90_000


@pytest.fixture
def event_broker(request: pytest.FixtureRequest) -> str:
    """The broker of a test's events: `redis` unless parametrised (indirect) with `rabbitmq`."""
    return getattr(request, "param", "redis")


@pytest.fixture
def pdf_settings(
    request: pytest.FixtureRequest, mongodb_url: str, redis_url: str, unique_name: str, event_broker: str
) -> PdfServiceSettings:
    """`@pytest.mark.pdf_timing(render_timeout_seconds=..., event_claim_idle_ms=...)` overrides the
    generous defaults (a test of the render time limit, of a worker's crash recovery)."""
    marker = request.node.get_closest_marker("pdf_timing")
    timing = {"event_claim_idle_ms": CLAIM_IDLE_MS, "render_timeout_seconds": RENDER_TIMEOUT_SECONDS}
    timing.update(marker.kwargs if marker else {})
    return PdfServiceSettings(
        environment="test",
        mongodb_url=mongodb_url,
        redis_url=redis_url,
        mongodb_db=f"t_pdf_{unique_name}",
        log_json=False,
        event_stream_prefix=f"t{unique_name}:",
        broker_url=request.getfixturevalue("rabbitmq_url") if event_broker == "rabbitmq" else None,
        **timing,
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
