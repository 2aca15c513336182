"""The outbox relay under a race: 20 relay passes over one unpublished record at once publish it
once (each takes the record's lease; before, every pass published it)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from core_api.lib.documents import utcnow
from shared.events import PDF_REQUESTED

from .test_pdf_jobs import (  # noqa: F401 - fixtures of the PDF-job tests (own streams per test)
    PIS,
    core_settings,
    dedicated_redis,
    events_ready,
    new_pi,
    redis,
    stream_bodies,
)

N = 20


async def test_20_concurrent_relay_passes_publish_an_outbox_record_once(
    core_client,
    make_tenant,
    make_inventario,
    core_settings,  # noqa: F811 - the fixture imported above
    redis,  # noqa: F811
    raw_db,
    in_app_loop,
):
    tenant, _, pi = await new_pi(core_client, make_tenant, make_inventario)
    events_ready(core_client)
    r = await core_client.post(f"{PIS}/{pi['id']}/pdf-jobs", headers=tenant.user_headers)
    assert r.status_code == 202 and r.json()["queued"] is True
    job_id = r.json()["jobId"]
    stream = f"{core_settings.event_stream_prefix}{PDF_REQUESTED}"
    # as if Redis had lost it: back in the outbox, old enough for the relay, not on the stream
    await redis.delete(stream)
    await raw_db["pdf_requests"].update_one(
        {"job_id": job_id}, {"$set": {"published_at": None, "created_at": utcnow() - timedelta(seconds=30)}}
    )
    outbox = core_client.app.state.pdf_outbox

    async def race() -> list[int]:
        return await asyncio.gather(*(outbox.relay_once() for _ in range(N)))

    sent = in_app_loop(race)
    assert sum(sent) == 1, sent
    bodies = await stream_bodies(redis, stream)
    assert [b["data"]["jobId"] for b in bodies] == [job_id]
    record = await raw_db["pdf_requests"].find_one({"job_id": job_id})
    assert record["published_at"] is not None and record["publish_attempts"] == 2
