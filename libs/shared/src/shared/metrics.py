"""Every Prometheus metric the services record, with the small helpers that record them.

One module, one registry (prometheus-client's default), so a name is defined once for both services.
HTTP request metrics come from Litestar's Prometheus plugin (see `shared.metrics_http`); this module
holds the rest: MongoDB commands (pymongo command monitoring), Redis commands (an instrumented
client), the response cache, the EventBus and background jobs, and business counters.

Labels are bounded on purpose: no empresa, user or document id ever becomes a label value (one
series per tenant would grow without limit); helpers that take enum-like values refuse unknown ones.

Under several uvicorn workers, prometheus-client runs in multiprocess mode (`shared.metrics_process`
sets `PROMETHEUS_MULTIPROC_DIR` before this module is imported); each gauge below declares how the
workers' values combine.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from threading import Lock
from typing import Any

from prometheus_client import Counter, Gauge, Histogram
from pymongo import monitoring
from redis.asyncio import Redis
from redis.asyncio.client import Pipeline

#: the same buckets as Traefik's, so gateway and service p95 are comparable
HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
DB_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
REDIS_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5)
JOB_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
PDF_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0)

# ---------------------------------------------------------------- MongoDB (pymongo command monitoring)
MONGODB_COMMAND_DURATION = Histogram(
    "mongodb_command_duration_seconds",
    "MongoDB command round trip as measured by the driver, by command and collection",
    ["command", "collection"],
    buckets=DB_BUCKETS,
)
MONGODB_COMMAND_FAILURES = Counter(
    "mongodb_command_failures_total",
    "MongoDB commands that failed (server error or network), by command and collection",
    ["command", "collection"],
)

# ---------------------------------------------------------------- Redis
REDIS_COMMAND_DURATION = Histogram(
    "redis_command_duration_seconds",
    "Redis command latency seen by the client (PIPELINE/MULTI for a whole pipeline), by command",
    ["command"],
    buckets=REDIS_BUCKETS,
)
REDIS_COMMAND_ERRORS = Counter(
    "redis_command_errors_total",
    "Redis commands that raised (timeouts, connection errors, server errors), by command and error class",
    ["command", "error"],
)

# ---------------------------------------------------------------- response cache and cache-aside
CACHE_REQUESTS = Counter(
    "cache_requests_total",
    "Cache lookups by cache and result (hit, miss, error: Redis failed and the read went to MongoDB)",
    ["cache", "result"],
)
CACHE_ERRORS = Counter(
    "cache_errors_total",
    "Cache operations that failed open (get, set, delete, invalidate), by cache and operation",
    ["cache", "operation"],
)

# ---------------------------------------------------------------- EventBus and jobs
EVENTS_PUBLISHED = Counter("events_published_total", "Events published, by topic", ["topic"])
EVENTS_PUBLISH_FAILURES = Counter(
    "events_publish_failures_total", "Events that could not be published, by topic", ["topic"]
)
EVENTS_CONSUMED = Counter(
    "events_consumed_total",
    "Event deliveries handled, by topic, consumer group and outcome (success, failure, duplicate)",
    ["topic", "group", "outcome"],
)
EVENTS_RETRIED = Counter(
    "events_retried_total",
    "Event deliveries handed back for another attempt, by topic and group",
    ["topic", "group"],
)
EVENTS_DEAD_LETTERED = Counter(
    "events_dead_lettered_total",
    "Events given up on and moved to the dead-letter stream, by topic and group",
    ["topic", "group"],
)
EVENT_HANDLING_DURATION = Histogram(
    "event_handling_duration_seconds",
    "Time a handler spent on one delivery, by topic and group",
    ["topic", "group"],
    buckets=JOB_BUCKETS,
)
EVENT_STREAM_PENDING = Gauge(
    "event_stream_pending_messages",
    "Messages delivered to a consumer group but not acknowledged yet (XPENDING), by stream and group",
    ["stream", "group"],
    multiprocess_mode="mostrecent",  # any worker may sample it; the latest sample wins
)
EVENT_STREAM_LAG = Gauge(
    "event_stream_lag_messages",
    "Messages in the stream not yet delivered to the consumer group (XINFO GROUPS lag)",
    ["stream", "group"],
    multiprocess_mode="mostrecent",
)
JOBS_IN_FLIGHT = Gauge(
    "jobs_in_flight",
    "Background jobs running now, by job kind (summed over live workers)",
    ["job"],
    multiprocess_mode="livesum",
)
PDF_JOBS_OLDEST_PENDING = Gauge(
    "pdf_jobs_oldest_pending_age_seconds",
    "Age of the oldest PDF job core-api still waits for (outbox, stream or rendering); 0 when none",
    multiprocess_mode="mostrecent",  # each core-api worker samples it; the latest sample wins
)
JOBS_PROCESSED = Counter(
    "jobs_processed_total", "Background jobs finished, by job kind and outcome", ["job", "outcome"]
)
JOB_DURATION = Histogram(
    "job_duration_seconds", "Background job run time, by job kind", ["job"], buckets=JOB_BUCKETS
)

# ---------------------------------------------------------------- business
BUSINESS_ENTITIES = ("regiao", "placa", "cliente", "aluguel", "pi", "contrato")
ENTITIES_CREATED = Counter(
    "business_entities_created_total",
    "Domain records created, by entity (regiao, placa, cliente, aluguel, pi, contrato); never by empresa",
    ["entity"],
)
PDF_RENDERERS = ("legacy", "pdf-service")
PDF_DOCUMENTS = ("pi", "contrato")
PDF_RENDERED = Counter(
    "pdf_rendered_total",
    "PDF documents rendered, by renderer (legacy = core-api in-process, pdf-service), document and outcome",
    ["renderer", "document", "outcome"],
)
PDF_RENDER_DURATION = Histogram(
    "pdf_render_duration_seconds",
    "Time to render one PDF, by renderer and document",
    ["renderer", "document"],
    buckets=PDF_BUCKETS,
)

OUTCOMES = ("success", "failure")
#: `duplicate`: an event id this group already handled, acknowledged without calling the handler
EVENT_OUTCOMES = ("success", "failure", "duplicate")


def _check(value: str, allowed: tuple[str, ...], what: str) -> str:
    if value not in allowed:
        raise ValueError(f"{what} must be one of {', '.join(allowed)}, not {value!r}")
    return value


def initialise_series(
    *, entities: bool = False, renderers: Collection[str] = (), jobs: Collection[str] = ()
) -> None:
    """Create, at zero, every series of the known label sets this process records, so a scrape has
    them before the first event: `rate()`, ratios, `absent()` alerts and dashboards see 0, not nothing.

    `entities`: business_entities_created_total for BUSINESS_ENTITIES (core-api); `renderers`: the
    PDF families for each renderer × PDF_DOCUMENTS × OUTCOMES; `jobs`: jobs_processed_total × OUTCOMES,
    job_duration_seconds and jobs_in_flight. Call it in each process that serves or writes metrics
    (each uvicorn worker builds the app, so the app factory is the place).
    """
    if entities:
        for entity in BUSINESS_ENTITIES:
            ENTITIES_CREATED.labels(entity)
    for renderer in renderers:
        _check(renderer, PDF_RENDERERS, "renderer")
        for document in PDF_DOCUMENTS:
            PDF_RENDER_DURATION.labels(renderer, document)
            for outcome in OUTCOMES:
                PDF_RENDERED.labels(renderer, document, outcome)
    for job in jobs:
        JOBS_IN_FLIGHT.labels(job)
        JOB_DURATION.labels(job)
        for outcome in OUTCOMES:
            JOBS_PROCESSED.labels(job, outcome)


# ---------------------------------------------------------------- cache helpers
def cache_hit(cache: str) -> None:
    """A lookup answered from Redis. `cache` names the cache (e.g. "http", "placa")."""
    CACHE_REQUESTS.labels(cache, "hit").inc()


def cache_miss(cache: str) -> None:
    """A lookup that found nothing and went to MongoDB."""
    CACHE_REQUESTS.labels(cache, "miss").inc()


def cache_error(cache: str, operation: str = "get") -> None:
    """Redis failed during a cache operation and the caller carried on without it (fail-open)."""
    CACHE_ERRORS.labels(cache, operation).inc()
    if operation == "get":
        CACHE_REQUESTS.labels(cache, "error").inc()


# ---------------------------------------------------------------- EventBus helpers
def event_published(topic: str) -> None:
    EVENTS_PUBLISHED.labels(topic).inc()


def event_publish_failed(topic: str) -> None:
    EVENTS_PUBLISH_FAILURES.labels(topic).inc()


def event_handled(topic: str, group: str, outcome: str, seconds: float | None = None) -> None:
    """One delivery to a handler: its outcome (EVENT_OUTCOMES) and, when the handler ran, its time."""
    EVENTS_CONSUMED.labels(topic, group, _check(outcome, EVENT_OUTCOMES, "outcome")).inc()
    if seconds is not None:
        EVENT_HANDLING_DURATION.labels(topic, group).observe(seconds)


@contextmanager
def track_event_handling(topic: str, group: str) -> Iterator[None]:
    """Time one delivery and count it as success, or failure when the block raises (re-raised)."""
    start = time.perf_counter()
    outcome = "failure"
    try:
        yield
        outcome = "success"
    finally:
        event_handled(topic, group, outcome, time.perf_counter() - start)


def event_retried(topic: str, group: str) -> None:
    EVENTS_RETRIED.labels(topic, group).inc()


def event_dead_lettered(topic: str, group: str) -> None:
    EVENTS_DEAD_LETTERED.labels(topic, group).inc()


def set_stream_backlog(stream: str, group: str, *, pending: int, lag: int | None) -> None:
    EVENT_STREAM_PENDING.labels(stream, group).set(pending)
    if lag is not None:
        EVENT_STREAM_LAG.labels(stream, group).set(lag)


async def sample_stream_backlog(
    redis: Redis, stream: str, *, groups: Collection[str] | None = None
) -> dict[str, dict[str, int | None]]:
    """Read XINFO GROUPS for `stream` and set the pending/lag gauges of each group (only `groups`,
    when given); returns them.

    Call it periodically (the EventBus does, every 15 s, for the groups it consumes as); `lag` is
    None when Redis cannot tell (before 7.0, or after entries were deleted).
    """
    out: dict[str, dict[str, int | None]] = {}
    for info in await redis.xinfo_groups(stream):
        name = info["name"].decode() if isinstance(info["name"], bytes) else str(info["name"])
        if groups is not None and name not in groups:
            continue
        pending, lag = int(info.get("pending") or 0), info.get("lag")
        lag = None if lag is None else int(lag)
        set_stream_backlog(stream, name, pending=pending, lag=lag)
        out[name] = {"pending": pending, "lag": lag}
    return out


class JobRun:
    """What `track_job` yields: call `fail()` when the job ends in a handled failure (no exception)."""

    __slots__ = ("failed",)

    def __init__(self) -> None:
        self.failed = False

    def fail(self) -> None:
        self.failed = True


@contextmanager
def track_job(job: str) -> Iterator[JobRun]:
    """A background job: in flight while the block runs, then counted with its outcome and time.

    The outcome is `failure` when the block raises (re-raised) or calls `run.fail()`, else `success`.
    """
    JOBS_IN_FLIGHT.labels(job).inc()
    start = time.perf_counter()
    run = JobRun()
    raised = True
    try:
        yield run
        raised = False
    finally:
        JOBS_IN_FLIGHT.labels(job).dec()
        JOB_DURATION.labels(job).observe(time.perf_counter() - start)
        JOBS_PROCESSED.labels(job, "failure" if raised or run.failed else "success").inc()


# ---------------------------------------------------------------- business helpers
def entity_created(entity: str, count: int = 1) -> None:
    """Count created records: `entity` is one of BUSINESS_ENTITIES (a PI booking 5 placas is 1 pi + 5 aluguéis)."""
    ENTITIES_CREATED.labels(_check(entity, BUSINESS_ENTITIES, "entity")).inc(count)


@contextmanager
def track_pdf_render(renderer: str, document: str) -> Iterator[None]:
    """Time one render and count it as success, or failure when the block raises (re-raised)."""
    _check(renderer, PDF_RENDERERS, "renderer")
    _check(document, PDF_DOCUMENTS, "document")
    start = time.perf_counter()
    outcome = "failure"
    try:
        yield
        outcome = "success"
    finally:
        PDF_RENDER_DURATION.labels(renderer, document).observe(time.perf_counter() - start)
        PDF_RENDERED.labels(renderer, document, outcome).inc()


# ---------------------------------------------------------------- MongoDB command monitoring
class MongoCommandMetrics(monitoring.CommandListener):
    """pymongo command listener: duration of every command by name and collection.

    Pass an instance in `event_listeners` when creating the client. The collection is read from the
    started event (the finished events do not carry it), keyed by connection and request id.
    """

    def __init__(self) -> None:
        self._collections: dict[tuple[Any, int], str] = {}
        self._lock = Lock()  # pymongo's sync client may publish from several threads

    @staticmethod
    def _collection_of(event: monitoring.CommandStartedEvent) -> str:
        name = event.command_name
        target = event.command.get(name)
        if name == "getMore":
            target = event.command.get("collection")
        return target if isinstance(target, str) else ""

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        with self._lock:
            self._collections[(event.connection_id, event.request_id)] = self._collection_of(event)

    def _finish(self, event: Any) -> str:
        with self._lock:
            return self._collections.pop((event.connection_id, event.request_id), "")

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        collection = self._finish(event)
        MONGODB_COMMAND_DURATION.labels(event.command_name, collection).observe(event.duration_micros / 1e6)

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        collection = self._finish(event)
        MONGODB_COMMAND_DURATION.labels(event.command_name, collection).observe(event.duration_micros / 1e6)
        MONGODB_COMMAND_FAILURES.labels(event.command_name, collection).inc()


# ---------------------------------------------------------------- Redis client
def _command_label(args: tuple[Any, ...]) -> str:
    if not args:
        return "UNKNOWN"
    name = args[0]
    if isinstance(name, bytes):
        name = name.decode("ascii", "replace")
    return str(name).upper()


class InstrumentedPipeline(Pipeline):
    """A pipeline timed as one operation: PIPELINE, or MULTI when it is a transaction."""

    async def execute(self, raise_on_error: bool = True) -> list[Any]:
        if not self.command_stack and not self.watching:
            return await super().execute(raise_on_error)
        op = "MULTI" if (self.is_transaction or self.explicit_transaction) else "PIPELINE"
        start = time.perf_counter()
        try:
            return await super().execute(raise_on_error)
        except Exception as exc:
            REDIS_COMMAND_ERRORS.labels(op, type(exc).__name__).inc()
            raise
        finally:
            REDIS_COMMAND_DURATION.labels(op).observe(time.perf_counter() - start)


class InstrumentedRedis(Redis):
    """redis.asyncio.Redis that records the latency (and errors) of every command by name."""

    async def execute_command(self, *args: Any, **options: Any) -> Any:
        op = _command_label(args)
        start = time.perf_counter()
        try:
            return await super().execute_command(*args, **options)
        except Exception as exc:
            REDIS_COMMAND_ERRORS.labels(op, type(exc).__name__).inc()
            raise
        finally:
            REDIS_COMMAND_DURATION.labels(op).observe(time.perf_counter() - start)

    def pipeline(self, transaction: bool = True, shard_hint: str | None = None) -> InstrumentedPipeline:
        return InstrumentedPipeline(self.connection_pool, self.response_callbacks, transaction, shard_hint)


@contextmanager
def time_redis(operation: str) -> Iterator[None]:
    """Time a Redis call made through a client this module does not build (e.g. a library's own)."""
    start = time.perf_counter()
    try:
        yield
    except Exception as exc:
        REDIS_COMMAND_ERRORS.labels(operation, type(exc).__name__).inc()
        raise
    finally:
        REDIS_COMMAND_DURATION.labels(operation).observe(time.perf_counter() - start)
