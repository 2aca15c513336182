"""MongoDB (Beanie on pymongo's async client) and Redis clients opened and closed by a lifespan."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

from beanie import Document, init_beanie
from litestar import Litestar
from litestar.datastructures import State
from pymongo import AsyncMongoClient
from pymongo.errors import PyMongoError
from redis.asyncio import Redis

from shared.metrics import InstrumentedRedis, MongoCommandMetrics
from shared.settings import BaseServiceSettings

log = logging.getLogger(__name__)

Hook = Callable[[Litestar], Awaitable[None]]


def mongo_client(settings: BaseServiceSettings) -> AsyncMongoClient[Any]:
    """A pymongo async client with short timeouts, so readiness and requests fail fast; every command's
    duration is recorded (`mongodb_command_duration_seconds`)."""
    return AsyncMongoClient(
        settings.mongodb_url,
        event_listeners=[MongoCommandMetrics()],
        serverSelectionTimeoutMS=settings.mongo_timeout_ms,
        connectTimeoutMS=settings.mongo_timeout_ms,
        tz_aware=True,
        appname=settings.service_name,
    )


def redis_client(settings: BaseServiceSettings, timeout: float | None = None) -> Redis:
    """A Redis client whose commands time out quickly (`timeout`, default REDIS_TIMEOUT_SECONDS), so a
    slow Redis cannot pile requests up; every command's latency is recorded
    (`redis_command_duration_seconds`)."""
    timeout = timeout or settings.redis_timeout_seconds
    return InstrumentedRedis.from_url(
        settings.redis_url,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        health_check_interval=10,
        decode_responses=False,
    )


async def ensure_indexes(document_models: Sequence[type[Document]]) -> None:
    """Create each model's declared indexes with one `createIndexes` per index.

    Beanie sends all of a collection's indexes in one command; FerretDB v1.24 drops the connection
    when such a command names two or more indexes that all exist already — i.e. at every start
    after the first (a restart, a second worker or replica). One index per command is idempotent
    on FerretDB and MongoDB alike.

    A restart (every worker of every replica) finds them all present: one `listIndexes` per
    collection then replaces a `createIndexes` per index, which on a busy FerretDB is a write
    waiting for SQLite's lock each time (it took minutes for one worker in the soak).
    """
    for model in document_models:
        collection = model.get_pymongo_collection()
        wanted = model.get_settings().indexes or []
        if not wanted:
            continue
        present = {index["name"] async for index in await collection.list_indexes()}
        for index in wanted:
            if index.index.document.get("name") not in present:
                await collection.create_indexes([index.index])


async def mongo_ping(state: State) -> None:
    await state.mongo.admin.command("ping")
    if not state.get("mongo_initialized"):
        raise RuntimeError("connected, but collections and indexes are not initialised yet")


async def redis_ping(state: State) -> None:
    await state.redis.ping()


def infra_lifespan(
    settings: BaseServiceSettings,
    document_models: Sequence[type[Document]],
    on_ready: Sequence[Hook] = (),
    on_close: Sequence[Hook] = (),
) -> Callable[[Litestar], Any]:
    """Lifespan: open MongoDB + Beanie and Redis, run hooks, then close everything in reverse."""

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        mongo = mongo_client(settings)
        redis = redis_client(settings)
        # the token revocation check fails closed (shared.revocation): a longer timeout than the
        # fail-open cache's, so a busy moment is not answered 503
        revocation_redis = redis_client(settings, timeout=settings.revocation_timeout_seconds)
        app.state.revocation_redis = revocation_redis
        app.state.settings = settings
        app.state.mongo = mongo
        app.state.db = mongo[settings.mongodb_db]
        app.state.redis = redis
        app.state.mongo_initialized = False

        async def initialise() -> None:
            # MongoDB may come up after us: keep trying, stay live (not ready) meanwhile
            delay = 0.5
            while True:
                try:
                    started = time.monotonic()
                    await init_beanie(
                        database=app.state.db, document_models=list(document_models), skip_indexes=True
                    )
                    beanie_done = time.monotonic()
                    await ensure_indexes(document_models)
                    indexes_done = time.monotonic()
                    for hook in on_ready:
                        await hook(app)
                    # where a (re)start spends its time, for whoever wonders why it is slow
                    log.info(
                        "MongoDB initialised in %.2fs (beanie %.2fs, indexes %.2fs, start-up hooks %.2fs)",
                        time.monotonic() - started,
                        beanie_done - started,
                        indexes_done - beanie_done,
                        time.monotonic() - indexes_done,
                    )
                except (PyMongoError, OSError) as exc:
                    log.warning("MongoDB not available yet, retrying in %.1fs: %s", delay, exc)
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 10.0)
                    continue
                app.state.mongo_initialized = True
                return

        init_task: asyncio.Task[None] | None = None
        try:
            try:
                await asyncio.wait_for(asyncio.shield(init_task := asyncio.create_task(initialise())), 5.0)
            except TimeoutError:
                log.error("starting without MongoDB; readiness stays 503 until it answers")
            log.info("service started", extra={"port": settings.port})
            yield
        finally:
            if init_task is not None and not init_task.done():
                init_task.cancel()
            for hook in reversed(on_close):
                try:
                    await hook(app)
                except Exception:
                    log.exception("shutdown hook failed")
            await redis.aclose()
            await revocation_redis.aclose()
            await mongo.close()
            log.info("service stopped")

    return lifespan
