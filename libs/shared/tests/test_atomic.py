"""The one-winner primitive against the real FerretDB: racing writers on separate connections."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
from typing import Any

import pytest
from pymongo import AsyncMongoClient
from shared.atomic import LeaseBusy, LeaseLost, Leases


@pytest.fixture
async def clients(mongodb_url: str) -> Any:
    """20 separate clients (own connection pools), like 20 processes."""
    made = [AsyncMongoClient(mongodb_url, tz_aware=True, maxPoolSize=2) for _ in range(20)]
    yield made
    for c in made:
        await c.close()


async def test_20_racing_writers_on_separate_connections_elect_exactly_one(clients, unique_name):
    dbs = [c[f"t_atomic_{unique_name}"] for c in clients]
    for round_ in range(5):
        key = f"doc:{round_}"
        results = await asyncio.gather(*(Leases(db).try_acquire(key) for db in dbs))
        winners = [r for r in results if r is not None]
        assert len(winners) == 1, f"round {round_}: {len(winners)} winners"
        # while it is held nobody else gets it; once released the next one does
        assert await Leases(dbs[3]).try_acquire(key) is None
        await Leases(dbs[0]).release(winners[0])
        again = await Leases(dbs[5]).try_acquire(key)
        assert again is not None and again.owner != winners[0].owner and again.taken_over is None


async def test_counter_under_the_lease_loses_no_increment(clients, unique_name):
    """The read-modify-write FerretDB loses (`$inc` from many clients) is exact under the lease."""
    dbs = [c[f"t_atomic_{unique_name}"] for c in clients]
    await dbs[0]["counters"].insert_one({"_id": "c", "n": 0})

    async def bump(db: Any) -> None:
        for _ in range(5):
            async with Leases(db).hold("counters:c", wait=60) as lease:
                doc = await db["counters"].find_one({"_id": "c"})
                lease.check()
                await db["counters"].update_one({"_id": "c"}, {"$set": {"n": doc["n"] + 1}})

    await asyncio.gather(*(bump(db) for db in dbs))
    assert (await dbs[0]["counters"].find_one({"_id": "c"}))["n"] == 100


async def test_busy_key_times_out_and_an_expired_holder_is_taken_over(clients, unique_name):
    db = clients[0][f"t_atomic_{unique_name}"]
    leases = Leases(db, ttl=1.0, margin=0.3)
    held = await leases.acquire("k")
    with pytest.raises(LeaseBusy):
        await Leases(db, ttl=1.0).acquire("k", wait=0.2)
    # the holder "dies": nobody releases; after the ttl the key is free again, taken over once
    await asyncio.sleep(1.1)
    with pytest.raises(LeaseLost):
        held.check()
    racers = await asyncio.gather(*(Leases(c[db.name], ttl=5).try_acquire("k") for c in clients))
    winners = [r for r in racers if r is not None]
    assert len(winners) == 1
    # the winner is the racer elected to remove the dead lease, or one that found it already removed
    # by that racer and inserted first: either way exactly one, and the dead holder's lease is gone
    assert winners[0].taken_over in (held.owner, None)
    doc = await db["leases"].find_one({"_id": "k"})
    assert doc["owner"] == winners[0].owner and doc["owner"] != held.owner
    # the dead holder, waking up, cannot give away the key it lost
    await leases.release(held)
    assert (await db["leases"].find_one({"_id": "k"}))["owner"] == winners[0].owner


HOLDER = textwrap.dedent(
    """
    import asyncio, sys
    from pymongo import AsyncMongoClient
    from shared.atomic import Leases

    async def main():
        client = AsyncMongoClient(sys.argv[1], tz_aware=True)
        lease = await Leases(client[sys.argv[2]], ttl=float(sys.argv[3])).acquire("placas:42")
        print("HELD", lease.owner, flush=True)
        await asyncio.sleep(3600)

    asyncio.run(main())
    """
)


async def test_a_holder_killed_with_sigkill_frees_the_key_within_its_ttl(mongodb_url, unique_name, clients):
    dbname = f"t_atomic_{unique_name}"
    ttl = 3.0
    proc = subprocess.Popen(  # noqa: ASYNC220 - started once, before anything runs on the loop
        [sys.executable, "-c", HOLDER, mongodb_url, dbname, str(ttl)],
        stdout=subprocess.PIPE,
        env=os.environ.copy(),
    )
    try:
        line = await asyncio.to_thread(proc.stdout.readline)  # type: ignore[union-attr]
        assert line.startswith(b"HELD"), line
        leases = Leases(clients[0][dbname], ttl=ttl)
        assert await leases.try_acquire("placas:42") is None
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        # bounded recovery: the key is free again once the dead holder's lease ran out
        lease = await leases.acquire("placas:42", wait=ttl * 4)
        dead_owner = line.split()[1].decode()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        if proc.stdout is not None:
            proc.stdout.close()
    assert lease.taken_over == dead_owner
