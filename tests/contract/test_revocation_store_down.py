"""When the token revocation store (Redis) is down: pdf-service fails closed, core-api falls back to
its users' own copy of the token version, and no revocation is lost.

Real Redis processes, really stopped: pdf-service answers 503 (Retry-After, a message), never 200/404,
to a token it accepted a moment before; core-api still accepts that token and still refuses one revoked
before the outage; a revocation during the outage is refused (503), not recorded half. Once Redis is
back, pdf-service accepts the valid token again and still refuses the revoked one. See docs/security.md.
"""

from __future__ import annotations

import uuid

import pytest
from core_api.server.app import create_app as create_core_app
from core_api.settings import CoreApiSettings
from devstack.servers import start_redis
from litestar.testing import AsyncTestClient
from pdf_service.server.app import create_app as create_pdf_app
from pdf_service.settings import PdfServiceSettings

PASSWORD = "Guarda-Chuva-Amarelo-93"
DOCUMENT = "/api/v1/documents/65a000000000000000000001"
ME = "/api/v1/auth/me"


@pytest.fixture
def own_redis(workdir):
    # AOF on, as in `make up` and the deployments: revocations survive a restart of Redis
    srv = start_redis(workdir / "redis", persist=True)
    yield srv
    srv.stop()


async def test_pdf_service_fails_closed_and_core_api_uses_its_copy_while_redis_is_stopped(
    own_redis, mongodb_url, unique_name, workdir
):
    common = {
        "environment": "test",
        "mongodb_url": mongodb_url,
        "redis_url": own_redis.url,
        "log_json": False,
    }
    core = CoreApiSettings(**common, mongodb_db=f"t_core_{unique_name}")
    pdf = PdfServiceSettings(
        **common, mongodb_db=f"t_pdf_{unique_name}", event_stream_prefix=f"t{unique_name}:"
    )
    email = f"admin-{uuid.uuid4().hex[:8]}@example.com"
    async with (
        AsyncTestClient(create_core_app(core)) as core_client,
        AsyncTestClient(create_pdf_app(pdf)) as pdf_client,
    ):
        body = {
            "empresa": {"nome": "Sem Redis"},
            "admin": {"nome": "Ana", "email": email, "password": PASSWORD},
        }
        assert (await core_client.post("/api/v1/auth/register", json=body)).status_code == 202

        async def log_in() -> dict[str, str]:
            r = await core_client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
            assert r.status_code == 200, r.text
            return {"Authorization": f"Bearer {r.json()['accessToken']}"}

        revoked = await log_in()
        assert (await core_client.post("/api/v1/auth/logout", headers=revoked)).status_code == 204
        headers = await log_in()
        assert (await core_client.get(ME, headers=headers)).status_code == 200
        assert (await pdf_client.get(DOCUMENT, headers=headers)).status_code == 404
        assert (await pdf_client.get(DOCUMENT, headers=revoked)).status_code == 401

        own_redis.stop()
        for path in (DOCUMENT, "/api/v1/documents/65a000000000000000000002"):
            r = await pdf_client.get(path, headers=headers)
            assert r.status_code == 503, (path, r.status_code, r.text)
            assert r.headers["retry-after"] == "2"
            assert "revocation store is unavailable" in r.json()["detail"]
        # core-api knows the versions from its users' documents: valid stays valid, revoked stays revoked
        assert (await core_client.get(ME, headers=headers)).status_code == 200
        r = await core_client.get(ME, headers=revoked)
        assert r.status_code == 401 and "revoked" in r.json()["detail"]
        # a revocation cannot be recorded where pdf-service looks: refused, not applied half
        assert (await core_client.post("/api/v1/auth/logout", headers=headers)).status_code == 503
        assert (await core_client.get(ME, headers=headers)).status_code == 200

        restarted = start_redis(workdir / "redis", port=own_redis.port, persist=True)
        try:
            assert (await pdf_client.get(DOCUMENT, headers=headers)).status_code == 404
            assert (await pdf_client.get(DOCUMENT, headers=revoked)).status_code == 401
            assert (await core_client.get(ME, headers=headers)).status_code == 200
        finally:
            restarted.stop()
