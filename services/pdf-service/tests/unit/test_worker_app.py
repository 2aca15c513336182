"""The PDF worker is a FastStream ASGI application: its HTTP routes answer without the broker running
(`/metrics` behind Basic Auth, liveness), and only those routes exist (no AsyncAPI "try it out")."""

from __future__ import annotations

import httpx
import pytest
from faststream.asgi import AsgiFastStream
from pdf_service.settings import PdfServiceSettings
from pdf_service.worker import build_worker, worker_app


@pytest.mark.parametrize("broker_url", [None, "amqp://guest:guest@127.0.0.1:1/"])
async def test_worker_app_is_a_faststream_asgi_app_with_metrics_and_health(broker_url):
    settings = PdfServiceSettings(
        environment="test",
        redis_url="redis://127.0.0.1:1/0",
        mongodb_url="mongodb://127.0.0.1:1/",
        broker_url=broker_url,
        metrics_username="scraper",
        metrics_password="worker-metrics-pass",
    )
    worker = build_worker(settings)
    app = worker_app(settings, worker)
    assert isinstance(app, AsgiFastStream) and app.brokers == [worker.bus.broker]
    assert type(worker.bus.broker).__name__ == ("RedisBroker" if broker_url is None else "RabbitBroker")
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://worker"
        ) as http:
            live = await http.get("/api/v1/health")
            assert live.status_code == 200 and live.json()["service"] == "pdf-service-worker"
            denied = await http.get("/metrics")
            assert denied.status_code == 401 and denied.headers["www-authenticate"] == 'Basic realm="metrics"'
            scraped = await http.get("/metrics", auth=("scraper", "worker-metrics-pass"))
            assert scraped.status_code == 200 and "events_consumed_total" in scraped.text
            for absent in ("/asyncapi", "/asyncapi/try", "/docs"):
                assert (await http.get(absent)).status_code == 404, absent
    finally:
        await worker.bus.close()
        await worker.mongo.close()
