"""core-api's side of the PDF events, one instance per process (`PdfEvents`, started by `PdfEventsPlugin`).

- Outbox relay: `pdf_requests` records whose `pdf.requested` event Redis has not accepted yet are
  published again every `RELAY_INTERVAL` seconds, then marked (`published_at`). Each record is
  published while holding its lease (`TenantRepository.locked`), so of the request and the relays
  of every process one publishes it; should a lease ever be outlived, the event id is fixed per
  job, so the consumers' de-duplication and pdf-service's job id still make a duplicate harmless.
- Subscriptions (consumer group `core-api`; each uvicorn worker is one consumer of it):
  `pdf.generated` records the document on the job record and on its PI/contrato; `pdf.failed`
  marks the job failed (`outcomes.py`, through the domain services, each effect once per event
  id), then notify the empresa's SSE clients through Litestar channels (Redis pub/sub), so a
  client connected to any worker or replica hears it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, timedelta
from typing import Any

from litestar import Litestar
from litestar.channels import ChannelsPlugin
from litestar.channels.backends.redis import RedisChannelsPubSubBackend
from litestar.config.app import AppConfig
from litestar.datastructures import State
from litestar.plugins import InitPlugin
from redis.asyncio import Redis
from shared.events import (
    PDF_FAILED,
    PDF_GENERATED,
    PDF_REQUESTED,
    EventBus,
    EventEnvelope,
    PdfFailedV1,
    PdfGeneratedV1,
    bus_from_settings,
    parse_event,
)
from shared.metrics import PDF_JOBS_OLDEST_PENDING

from core_api.domain.pdf_jobs.models import PdfRequest
from core_api.domain.pdf_jobs.outcomes import record_pdf_failed, record_pdf_generated
from core_api.domain.pdf_jobs.schemas import PdfNotification
from core_api.lib.documents import utcnow
from core_api.lib.errors import ConflictException
from core_api.lib.repository import TenantRepository
from core_api.settings import CoreApiSettings

log = logging.getLogger("core_api.pdf_jobs")

#: how often each process looks for events still in the outbox
RELAY_INTERVAL = 1.0
#: how often a worker samples the age of the oldest pending PDF job (alert PdfJobsStuck)
OLDEST_PENDING_SAMPLE_S = 15.0


async def sample_oldest_pending() -> float:
    """Set pdf_jobs_oldest_pending_age_seconds from the oldest `pending` PdfRequest (every empresa:
    an operational figure, no tenant in it); returns it."""
    oldest = await PdfRequest.get_pymongo_collection().find_one(
        {"status": "pending"}, projection={"created_at": 1}, sort=[("created_at", 1)]
    )
    age = 0.0
    if oldest is not None and oldest.get("created_at") is not None:
        created = oldest["created_at"]
        if created.tzinfo is None:
            created = created.replace(tzinfo=UTC)
        age = max(0.0, (utcnow() - created).total_seconds())
    PDF_JOBS_OLDEST_PENDING.set(age)
    return age


#: a record younger than this is left to the request that created it (it is publishing it now)
RELAY_GRACE = timedelta(seconds=3)
#: a publish that takes longer counts as failed (the relay retries it)
PUBLISH_TIMEOUT = 3.0


def empresa_channel(empresa_id: str) -> str:
    """The channels (Redis pub/sub) name an empresa's notifications travel on."""
    return f"events:empresa:{empresa_id}"


class PdfEvents:
    """The process's EventBus for the PDF flow: outbox publishing, relay, outcome handlers."""

    def __init__(
        self,
        settings: CoreApiSettings,
        channels: ChannelsPlugin,
        bus_factory: Callable[[], EventBus] | None = None,
    ) -> None:
        self.settings = settings
        self.channels = channels
        #: the app's state (its database), for the domain services the handlers record through
        self.state: State | None = None
        self._bus_factory = bus_factory or (lambda: bus_from_settings(settings))
        self.bus: EventBus = self._new_bus()
        self.ready = asyncio.Event()
        self._stopping = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    def _new_bus(self) -> EventBus:
        bus = self._bus_factory()
        bus.declare_publisher(PDF_REQUESTED, "Render this PI/contrato (the snapshot travels with it).")
        bus.subscribe(
            PDF_GENERATED, self.on_generated, description="Record the document, notify SSE clients."
        )
        bus.subscribe(PDF_FAILED, self.on_failed, description="Mark the job failed, notify SSE clients.")
        return bus

    # --- lifecycle ------------------------------------------------------------------------------
    async def start(self, app: Litestar) -> None:
        self.state = app.state
        self._tasks = [asyncio.create_task(self._run(app), name="pdf-events")]

    async def stop(self) -> None:
        # a flag first: the loops end by themselves once the bus is up. A bus still starting when
        # the app stops (tests that exit at once) is another matter: FastStream's broker start does
        # not complete then, and stopping a half-started broker waits out its graceful timeout, so
        # both waits are bounded and a half-started bus is abandoned with a warning.
        self._stopping.set()
        started = self.ready.is_set()
        if self._tasks:
            _, pending = await asyncio.wait(self._tasks, timeout=2)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending, timeout=1)
        self.ready.clear()
        try:
            await asyncio.wait_for(self.bus.stop(), None if started else 2)
        except TimeoutError:
            log.warning("the event bus was still starting at shutdown; abandoned")

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)

    async def _run(self, app: Litestar) -> None:
        # the handlers use Beanie: wait until the lifespan has initialised MongoDB (a plain flag on
        # the app state, set by shared.infra's lifespan; there is no event to wait on)
        while not app.state.get("mongo_initialized") and not self._stopping.is_set():
            await self._pause(0.2)
        delay = 0.5
        while not self._stopping.is_set():
            try:
                await self.bus.ping()
                await self.bus.start()
                break
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - Redis down at start: keep trying, the outbox holds jobs
                log.warning("event bus not started (%s); retrying in %.1fs", exc, delay)
                with contextlib.suppress(Exception):
                    await self.bus.stop()
                self.bus = self._new_bus()  # a half-started bus is not restartable: start afresh
                await self._pause(delay)
                delay = min(delay * 2, 10.0)
        if self._stopping.is_set():
            return
        self.ready.set()
        log.info("pdf events started", extra={"consumer": self.bus.consumer_name})
        sampled = 0.0
        while not self._stopping.is_set():
            try:
                await self.relay_once()
                if time.monotonic() - sampled >= OLDEST_PENDING_SAMPLE_S:
                    sampled = time.monotonic()
                    await sample_oldest_pending()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("outbox relay pass failed")
            await self._pause(RELAY_INTERVAL)

    # --- publishing (the outbox) ----------------------------------------------------------------
    async def _publish(self, event: EventEnvelope[Any]) -> None:
        if not self.ready.is_set():
            raise ConnectionError("the event bus is not connected yet")
        await asyncio.wait_for(self.bus.publish(PDF_REQUESTED, event), PUBLISH_TIMEOUT)

    async def publish_now(self, record: PdfRequest, event: EventEnvelope[Any]) -> bool:
        """Publish a freshly recorded job's event; on failure it stays in the outbox for the relay."""
        try:
            published = await self._publish_record(record.empresa_id, record.id, wait=PUBLISH_TIMEOUT)
        except Exception as exc:  # noqa: BLE001 - any broker failure: the relay takes over
            log.warning(
                "pdf.requested not accepted by the broker; kept in the outbox: %s",
                exc,
                extra={"job_id": record.job_id},
            )
            return False
        if published:
            record.published_at = utcnow()
        return True

    async def _publish_record(self, empresa_id: Any, record_id: Any, *, wait: float) -> bool:
        """Publish one outbox record while holding its lease, so the request and the relays of
        every process never publish it twice; False when somebody already had."""
        repo = TenantRepository(PdfRequest, empresa_id, "PDF job")
        async with repo.locked(record_id, wait=wait) as record:
            if record.published_at is not None:
                return False
            try:
                await self._publish(parse_event(record.event))
            except Exception as exc:
                with contextlib.suppress(Exception):
                    await repo.write(
                        record,
                        {
                            "last_publish_error": f"{type(exc).__name__}: {exc}"[:500],
                            "publish_attempts": record.publish_attempts + 1,
                        },
                    )
                raise
            await repo.write(
                record, {"published_at": utcnow(), "publish_attempts": record.publish_attempts + 1}
            )
            return True

    async def relay_once(self, limit: int = 100) -> int:
        """Publish the outbox's oldest unpublished events (older than the grace period); how many went out."""
        if not self.ready.is_set():
            return 0
        waiting = (
            await PdfRequest.find({"published_at": None, "created_at": {"$lte": utcnow() - RELAY_GRACE}})
            .sort("created_at")
            .limit(limit)
            .to_list()
        )
        sent = 0
        for record in waiting:
            try:
                published = await self._publish_record(record.empresa_id, record.id, wait=0)
            except ConflictException:
                continue  # another process is publishing it right now
            except Exception as exc:  # noqa: BLE001 - broker still down: try again next pass
                log.warning("outbox relay: broker unavailable (%s); %s waits", exc, record.job_id)
                break
            if published:
                log.info("outbox relay published pdf.requested", extra={"job_id": record.job_id})
                sent += 1
        return sent

    # --- consuming ------------------------------------------------------------------------------
    async def on_generated(self, event: EventEnvelope[PdfGeneratedV1]) -> None:
        """Record the document on the job and on its PI/contrato (once per event), then notify."""
        if await record_pdf_generated(event, self._state()) is not None:
            await self._notify(event, document_id=event.data.document_id, filename=event.data.filename)

    async def on_failed(self, event: EventEnvelope[PdfFailedV1]) -> None:
        """Mark the job failed with pdf-service's error (once per event; a done job stays done), then notify."""
        if await record_pdf_failed(event, self._state()) is not None:
            await self._notify(event, error=event.data.error)

    def _state(self) -> State:
        if self.state is None:
            raise RuntimeError("PdfEvents handles events only once started with its app")
        return self.state

    async def _notify(self, event: EventEnvelope[Any], **fields: Any) -> None:
        # a redelivered event notifies again: clients de-duplicate on the SSE id (the event id)
        notification = PdfNotification(
            type=event.type,
            event_id=event.event_id,
            job_id=event.data.job_id,
            kind=event.data.kind,
            source_id=event.data.source_id,
            correlation_id=event.correlation_id,
            **fields,
        )
        await self.channels.wait_published(
            notification.model_dump_json(by_alias=True, exclude_none=True),
            [empresa_channel(event.empresa_id)],
        )


def channels_plugin(settings: CoreApiSettings) -> ChannelsPlugin:
    """Litestar channels on Redis pub/sub (its own connection: subscriptions block on reads)."""
    redis = Redis.from_url(
        settings.redis_url,
        socket_connect_timeout=max(settings.redis_timeout_seconds, 1.0),
        health_check_interval=10,
    )
    return ChannelsPlugin(
        backend=RedisChannelsPubSubBackend(redis=redis, stream_sleep_no_subscriptions=1),
        arbitrary_channels_allowed=True,
        subscriber_max_backlog=1000,
        subscriber_backlog_strategy="dropleft",
    )


class PdfEventsPlugin(InitPlugin):
    """Runs `PdfEvents` for the app's lifetime. Registered after the ChannelsPlugin, so at shutdown
    the bus stops (handlers in flight finish) before channels close."""

    def __init__(self, settings: CoreApiSettings, channels: ChannelsPlugin) -> None:
        self.settings = settings
        self.channels = channels

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        app_config.lifespan.append(self._lifespan)
        return app_config

    @asynccontextmanager
    async def _lifespan(self, app: Litestar) -> AsyncIterator[None]:
        events = PdfEvents(self.settings, self.channels)
        app.state.pdf_outbox = events
        await events.start(app)
        try:
            yield
        finally:
            await events.stop()
