"""Metrics recorded by a service app built with `shared.app`, against the session's real Redis and
FerretDB: names, labels (route templates, real status codes), Basic Auth on /metrics, MongoDB and
Redis instrumentation, and the helpers other modules call (cache, EventBus, jobs, business, PDFs)."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from typing import Any

import pytest
from litestar import Litestar, get
from litestar.datastructures import State
from litestar.params import FromPath
from litestar.testing import AsyncTestClient
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families
from pymongo.errors import PyMongoError
from shared import metrics
from shared.app import build_app, service_app_config
from shared.auth import build_jwt_auth
from shared.infra import infra_lifespan, redis_client
from shared.settings import BaseServiceSettings


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@get("/api/v1/things/{thing_id:str}", sync_to_thread=False)
def get_thing(thing_id: FromPath[str]) -> dict[str, str]:
    return {"id": thing_id}


@get("/api/v1/boom", sync_to_thread=False)
def boom() -> None:
    raise RuntimeError("kaput")


@get("/api/v1/private", sync_to_thread=False)
def private() -> dict[str, str]:
    return {"secret": "yes"}


@get("/api/v1/touch")
async def touch(state: State) -> dict[str, Any]:
    coll = state.db["metric_widgets"]
    await coll.insert_one({"n": 1})
    found = await coll.count_documents({})
    await state.redis.set("metrics-test:key", b"1")
    await state.redis.get("metrics-test:key")
    async with state.redis.pipeline(transaction=False) as pipe:
        pipe.incr("metrics-test:counter")
        pipe.expire("metrics-test:counter", 60)
        await pipe.execute()
    return {"count": found}


@get("/api/v1/bad-command")
async def bad_command(state: State) -> dict[str, bool]:
    try:
        await state.db.command("noSuchCommandAtAll")
    except PyMongoError:
        return {"failed": True}
    return {"failed": False}


@pytest.fixture
def settings(mongodb_url: str, redis_url: str, unique_name: str) -> BaseServiceSettings:
    return BaseServiceSettings(
        environment="test",
        service_name=f"metrics-test-{unique_name}",
        mongodb_url=mongodb_url,
        redis_url=redis_url,
        mongodb_db=f"t_metrics_{unique_name}",
        metrics_username="scraper",
        metrics_password="s3cret-pass",
        log_json=False,
    )


def make_app(settings: BaseServiceSettings) -> Litestar:
    config = service_app_config(
        settings,
        title="metrics test",
        description="",
        route_handlers=[get_thing, boom, private, touch, bad_command],
        lifespan=[infra_lifespan(settings, [])],
        auth=build_jwt_auth(
            settings, exclude=["^/api/v1/things", "^/api/v1/boom", "^/api/v1/touch", "^/api/v1/bad-command"]
        ),
    )
    return build_app(config)


@pytest.fixture
async def client(settings: BaseServiceSettings) -> AsyncIterator[AsyncTestClient]:
    async with AsyncTestClient(make_app(settings)) as c:
        yield c


async def test_metrics_need_basic_auth(client: AsyncTestClient) -> None:
    for headers in (
        {},
        basic("scraper", "wrong"),
        basic("other", "s3cret-pass"),
        {"Authorization": "Basic !!"},
    ):
        r = await client.get("/metrics", headers=headers)
        assert r.status_code == 401, headers
        assert r.headers["www-authenticate"] == 'Basic realm="metrics"'
    bearer = await client.get("/metrics", headers={"Authorization": "Bearer abc"})
    assert bearer.status_code == 401
    ok = await client.get("/metrics", headers=basic("scraper", "s3cret-pass"))
    assert ok.status_code == 200
    assert ok.headers["content-type"].startswith("text/plain")
    names = {f.name for f in text_string_to_metric_families(ok.text)}
    assert {"mongodb_command_duration_seconds", "redis_command_duration_seconds"} <= names


async def test_requests_are_labelled_by_route_template_method_and_real_status(
    client: AsyncTestClient, settings: BaseServiceSettings
) -> None:
    app = settings.service_name
    template = "/api/v1/things/{thing_id}"
    for thing in ("a1", "b2", "c3"):
        assert (await client.get(f"/api/v1/things/{thing}")).status_code == 200
    assert (await client.get("/api/v1/boom")).status_code == 500
    assert (await client.get("/api/v1/private")).status_code == 401  # raised by the JWT middleware
    assert (await client.get("/api/v1/nowhere/at/all")).status_code == 404

    labels = {"method": "GET", "app_name": app}
    assert value("http_requests_total", path=template, status_code="200", **labels) == 3
    assert value("http_request_duration_seconds_count", path=template, status_code="200", **labels) == 3
    assert value("http_requests_total", path="/api/v1/boom", status_code="500", **labels) == 1
    assert value("http_requests_error_total", path="/api/v1/boom", status_code="500", **labels) == 1
    assert value("http_requests_total", path="/api/v1/private", status_code="401", **labels) == 1
    assert value("http_requests_in_progress", path=template, status_code="200", **labels) == 0

    scrape = (await client.get("/metrics", headers=basic("scraper", "s3cret-pass"))).text
    ours = [line for line in scrape.splitlines() if f'app_name="{app}"' in line]
    assert ours, "no request series for this app"
    assert not any(raw in line for line in ours for raw in ("/things/a1", "/things/b2", "nowhere"))
    assert not any('path="/metrics"' in line for line in ours), "scrapes are not recorded"


async def test_request_id_is_echoed_on_a_401(client: AsyncTestClient) -> None:
    r = await client.get("/api/v1/private", headers={"X-Request-ID": "req-401-check"})
    assert r.status_code == 401
    assert r.headers["x-request-id"] == "req-401-check"


async def test_mongodb_and_redis_commands_are_timed(client: AsyncTestClient) -> None:
    before = {
        "insert": value(
            "mongodb_command_duration_seconds_count", command="insert", collection="metric_widgets"
        ),
        "count": value(
            "mongodb_command_duration_seconds_count", command="aggregate", collection="metric_widgets"
        ),
        "set": value("redis_command_duration_seconds_count", command="SET"),
        "get": value("redis_command_duration_seconds_count", command="GET"),
        "pipe": value("redis_command_duration_seconds_count", command="PIPELINE"),
    }
    assert (await client.get("/api/v1/touch")).status_code == 200
    assert (
        value("mongodb_command_duration_seconds_count", command="insert", collection="metric_widgets")
        == before["insert"] + 1
    )
    # count_documents is an aggregate on the wire
    assert (
        value("mongodb_command_duration_seconds_count", command="aggregate", collection="metric_widgets")
        == before["count"] + 1
    )
    assert value("redis_command_duration_seconds_count", command="SET") == before["set"] + 1
    assert value("redis_command_duration_seconds_count", command="GET") == before["get"] + 1
    assert value("redis_command_duration_seconds_count", command="PIPELINE") == before["pipe"] + 1


async def test_failed_mongodb_command_is_counted(client: AsyncTestClient) -> None:
    before = value("mongodb_command_failures_total", command="noSuchCommandAtAll", collection="")
    assert (await client.get("/api/v1/bad-command")).json() == {"failed": True}
    assert value("mongodb_command_failures_total", command="noSuchCommandAtAll", collection="") == before + 1


async def test_redis_errors_are_counted_by_command_and_error(settings: BaseServiceSettings) -> None:
    dead = settings.model_copy(update={"redis_url": "redis://127.0.0.1:1/0"})
    redis = redis_client(dead)
    before = value("redis_command_errors_total", command="GET", error="ConnectionError")
    with pytest.raises(Exception):  # noqa: B017
        await redis.get("x")
    await redis.aclose()
    assert value("redis_command_errors_total", command="GET", error="ConnectionError") == before + 1


async def test_metrics_can_be_switched_off(
    settings: BaseServiceSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("METRICS_ENABLED", "false")
    app = make_app(settings.model_copy(update={"service_name": settings.service_name + "-off"}))
    async with AsyncTestClient(app) as c:
        assert (await c.get("/api/v1/things/x")).status_code == 200
        assert (await c.get("/metrics", headers=basic("scraper", "s3cret-pass"))).status_code == 404
    assert (
        value(
            "http_requests_total",
            method="GET",
            path="/api/v1/things/{thing_id}",
            status_code="200",
            app_name=settings.service_name + "-off",
        )
        == 0
    )


def test_cache_event_job_and_business_helpers(unique_name: str) -> None:
    cache = f"c{unique_name}"
    metrics.cache_hit(cache)
    metrics.cache_hit(cache)
    metrics.cache_miss(cache)
    metrics.cache_error(cache)
    metrics.cache_error(cache, "set")
    assert value("cache_requests_total", cache=cache, result="hit") == 2
    assert value("cache_requests_total", cache=cache, result="miss") == 1
    assert value("cache_requests_total", cache=cache, result="error") == 1  # only the failed lookup
    assert value("cache_errors_total", cache=cache, operation="get") == 1
    assert value("cache_errors_total", cache=cache, operation="set") == 1

    topic, group = f"t{unique_name}", "g"
    metrics.event_published(topic)
    metrics.event_publish_failed(topic)
    with metrics.track_event_handling(topic, group):
        pass
    with pytest.raises(ValueError), metrics.track_event_handling(topic, group):
        raise ValueError("handler failed")
    metrics.event_retried(topic, group)
    metrics.event_dead_lettered(topic, group)
    assert value("events_published_total", topic=topic) == 1
    assert value("events_publish_failures_total", topic=topic) == 1
    assert value("events_consumed_total", topic=topic, group=group, outcome="success") == 1
    assert value("events_consumed_total", topic=topic, group=group, outcome="failure") == 1
    assert value("event_handling_duration_seconds_count", topic=topic, group=group) == 2
    assert value("events_retried_total", topic=topic, group=group) == 1
    assert value("events_dead_lettered_total", topic=topic, group=group) == 1

    job = f"j{unique_name}"
    with metrics.track_job(job):
        assert value("jobs_in_flight", job=job) == 1
    assert value("jobs_in_flight", job=job) == 0
    assert value("jobs_processed_total", job=job, outcome="success") == 1
    assert value("job_duration_seconds_count", job=job) == 1

    before = value("business_entities_created_total", entity="aluguel")
    metrics.entity_created("aluguel", 5)
    assert value("business_entities_created_total", entity="aluguel") == before + 5
    with pytest.raises(ValueError, match="entity must be one of"):
        metrics.entity_created("empresa-123")  # unbounded values are refused

    before = value("pdf_rendered_total", renderer="legacy", document="pi", outcome="failure")
    with pytest.raises(RuntimeError), metrics.track_pdf_render("legacy", "pi"):
        raise RuntimeError("weasyprint broke")
    assert value("pdf_rendered_total", renderer="legacy", document="pi", outcome="failure") == before + 1
    with pytest.raises(ValueError, match="renderer"):
        metrics.track_pdf_render("chrome", "pi").__enter__()


async def test_stream_backlog_is_sampled_from_redis(settings: BaseServiceSettings, unique_name: str) -> None:
    redis = redis_client(settings)
    stream = f"metrics-test-{unique_name}"
    try:
        await redis.xgroup_create(stream, "pdf-workers", id="0", mkstream=True)
        for n in range(5):
            await redis.xadd(stream, {"n": str(n)})
        await redis.xreadgroup("pdf-workers", "w1", {stream: ">"}, count=2)  # delivered, not acked
        seen = await metrics.sample_stream_backlog(redis, stream)
    finally:
        await redis.delete(stream)
        await redis.aclose()
    assert seen == {"pdf-workers": {"pending": 2, "lag": 3}}
    assert value("event_stream_pending_messages", stream=stream, group="pdf-workers") == 2
    assert value("event_stream_lag_messages", stream=stream, group="pdf-workers") == 3
