"""When the token revocation store (Redis) is down, both services refuse every token: fail closed.

Real Redis processes, really stopped: a token accepted a moment before is answered 503 (with
Retry-After and a message), never 200/404, by core-api and pdf-service alike; once Redis is back, the
same token works again. See docs/security.md for why closed and not open.
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


@pytest.fixture
def own_redis(workdir):
    srv = start_redis(workdir / "redis")
    yield srv
    srv.stop()


async def test_both_services_fail_closed_while_redis_is_stopped(own_redis, mongodb_url, unique_name, workdir):
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
    password = "Guarda-Chuva-Amarelo-93"
    async with (
        AsyncTestClient(create_core_app(core)) as core_client,
        AsyncTestClient(create_pdf_app(pdf)) as pdf_client,
    ):
        body = {
            "empresa": {"nome": "Sem Redis"},
            "admin": {"nome": "Ana", "email": email, "password": password},
        }
        assert (await core_client.post("/api/v1/auth/register", json=body)).status_code == 202
        r = await core_client.post("/api/v1/auth/login", json={"email": email, "password": password})
        assert r.status_code == 200, r.text
        headers = {"Authorization": f"Bearer {r.json()['accessToken']}"}
        job = "/api/v1/pdf-jobs/65a000000000000000000001"
        assert (await core_client.get("/api/v1/auth/me", headers=headers)).status_code == 200
        assert (await pdf_client.get(job, headers=headers)).status_code == 404

        own_redis.stop()
        for client, path in (
            (core_client, "/api/v1/auth/me"),
            (pdf_client, job),
            (pdf_client, "/api/v1/documents/x"),
        ):
            r = await client.get(path, headers=headers)
            assert r.status_code == 503, (path, r.status_code, r.text)
            assert r.headers["retry-after"] == "2"
            assert "revocation store is unavailable" in r.json()["detail"]
        # revoking cannot be recorded either: the change is refused, not applied with live tokens
        r = await core_client.post("/api/v1/auth/logout", headers=headers)
        assert r.status_code == 503

        restarted = start_redis(workdir / "redis-again", port=own_redis.port)
        try:
            assert (await pdf_client.get(job, headers=headers)).status_code == 404
            assert (await core_client.get("/api/v1/auth/me", headers=headers)).status_code == 200
        finally:
            restarted.stop()
