from devstack.servers import free_port
from litestar.testing import AsyncTestClient
from pdf_service.server.app import create_app


async def test_liveness_and_readiness(pdf_client):
    r = await pdf_client.get("/api/v1/health")
    assert r.status_code == 200 and r.json()["service"] == "pdf-service"
    r = await pdf_client.get("/api/v1/health/ready")
    assert r.status_code == 200, r.text
    assert r.json()["checks"] == {"mongodb": "ok", "redis": "ok"}


async def test_readiness_503_names_mongodb_when_down(pdf_settings):
    settings = pdf_settings.model_copy(
        update={"mongodb_url": f"mongodb://127.0.0.1:{free_port()}/", "mongo_timeout_ms": 300}
    )
    async with AsyncTestClient(create_app(settings)) as client:
        r = await client.get("/api/v1/health/ready")
    assert r.status_code == 503
    assert r.json()["failed"] == ["mongodb"]


async def test_docs_are_served_under_the_service_prefix(pdf_client):
    r = await pdf_client.get("/api/v1/pdf-service/docs")
    assert r.status_code == 200
    assert "/api/v1/pdf-service/docs/assets/swagger-ui.css" in r.text
