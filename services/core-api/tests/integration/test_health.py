from core_api.server.app import create_app
from devstack.servers import free_port
from litestar.testing import AsyncTestClient


async def test_liveness(core_client):
    r = await core_client.get("/api/v1/health")
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "service": "core-api"}
    assert r.headers["x-request-id"]


async def test_readiness_reports_mongodb_and_redis(core_client):
    r = await core_client.get("/api/v1/health/ready")
    assert r.status_code == 200, r.text
    assert r.json()["checks"] == {"mongodb": "ok", "redis": "ok"}


async def test_readiness_503_names_redis_when_down(core_settings):
    settings = core_settings.model_copy(update={"redis_url": f"redis://127.0.0.1:{free_port()}/0"})
    async with AsyncTestClient(create_app(settings)) as client:
        r = await client.get("/api/v1/health/ready")
    assert r.status_code == 503
    body = r.json()
    assert body["failed"] == ["redis"]
    assert body["checks"]["mongodb"] == "ok"


async def test_request_id_is_echoed(core_client):
    r = await core_client.get("/api/v1/health", headers={"X-Request-ID": "abc-123"})
    assert r.headers["x-request-id"] == "abc-123"
    # garbage ids are replaced, not echoed
    r = await core_client.get("/api/v1/health", headers={"X-Request-ID": "<script>"})
    assert r.headers["x-request-id"] != "<script>"


async def test_docs_work_offline(core_client):
    r = await core_client.get("/api/v1/docs")
    assert r.status_code == 200
    assert "/api/v1/docs/assets/swagger-ui-bundle.js" in r.text
    assert "cdn." not in r.text and "unpkg" not in r.text
    asset = await core_client.get("/api/v1/docs/assets/swagger-ui-bundle.js")
    assert asset.status_code == 200 and len(asset.content) > 100_000
    spec = await core_client.get("/api/v1/docs/openapi.json")
    assert spec.status_code == 200 and spec.json()["info"]["title"].startswith("Outdoor platform")
