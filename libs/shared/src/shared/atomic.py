"""One winner for every conditional write, on FerretDB v1 as on MongoDB: leases built on unique inserts.

FerretDB v1 makes `update_one`, `$inc`, `find_one_and_update` and conditional updates a read, a
change in Go and a write-back of the whole document, so racing writers all "win" (see
docs/mongodb-vs-ferretdb.md). The one thing it decides atomically is an insert that collides on a
unique key. A `Lease` is exactly that: one document per *generation* of a key,
`_id = "<key>#<generation>"`. To take the key, a writer inserts the next generation; the insert
that collides lost. So for any key at most one holder is current, and whoever holds it can read,
check and write the protected documents without anyone writing in between.

Releasing marks the generation released (only its holder writes it). A holder that dies simply
stops renewing: once `expires_at` has passed, the next writer inserts the following generation
— again a unique insert, so a crowd of writers finding the same dead lease still elects one.
Recovery is therefore bounded by the lease time (`ttl`, 15 s by default).

A lease is only as good as its holder's respect for its deadline: before writing, a holder calls
`Lease.check()`, which refuses once less than `margin` of the lease is left, so a slow holder
stops before anybody may take over. Writes made under a lease should also be conditional on what
was read (a version number): on MongoDB proper that conditional update is atomic by itself and
fences even a holder that stalled past its deadline; on FerretDB the lease is what makes it safe.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

#: the collection every lease of a database lives in
LEASES = "leases"
DEFAULT_TTL = 15.0


class LeaseBusy(Exception):
    """Somebody else holds the key (and kept holding it for as long as we were willing to wait)."""

    def __init__(self, key: str) -> None:
        super().__init__(f"{key} is being changed by another request")
        self.key = key


class LeaseLost(Exception):
    """Our lease ran (nearly) out before the write: the write must not happen."""


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Lease:
    key: str
    generation: int
    owner: str
    expires_at: datetime
    #: monotonic deadline after which `check()` refuses (expiry minus the safety margin)
    deadline: float
    released: bool = field(default=False)

    @property
    def id(self) -> str:
        return f"{self.key}#{self.generation}"

    def check(self) -> None:
        """Raise `LeaseLost` unless there is still time to write safely."""
        if self.released or time.monotonic() > self.deadline:
            raise LeaseLost(f"lease on {self.key} expired before the write")


class Leases:
    """Exclusive, self-expiring leases on string keys, for one database."""

    def __init__(
        self,
        db: AsyncDatabase[Any],
        *,
        ttl: float = DEFAULT_TTL,
        margin: float | None = None,
        collection: str = LEASES,
    ) -> None:
        self.db = db
        self.collection = db[collection]
        self.ttl = ttl
        #: time kept in hand: a holder stops writing this long before anybody may take over
        self.margin = margin if margin is not None else min(ttl / 3, 5.0)

    async def try_acquire(self, key: str) -> Lease | None:
        """Take `key` now if it is free (never taken, released, or expired); None if held.

        Only `_id` lookups and inserts: the head document (`_id = key`) says which generation was
        taken last. It is a hint (a holder that died before updating it leaves it behind), so a
        collision on the next generation just moves on to look at that one."""
        head = await self.collection.find_one({"_id": key})
        generation = head["generation"] if head is not None else -1
        for _ in range(32):
            now = _now()
            current = None
            if generation >= 0:
                current = await self.collection.find_one({"_id": f"{key}#{generation}"})
                if (
                    current is not None
                    and not current.get("released")
                    and _aware(current["expires_at"]) > now
                ):
                    return None
            started = time.monotonic()
            owner = secrets.token_hex(8)
            expires_at = now + timedelta(seconds=self.ttl)
            try:
                await self.collection.insert_one(
                    {
                        "_id": f"{key}#{generation + 1}",
                        "key": key,
                        "generation": generation + 1,
                        "owner": owner,
                        "acquired_at": now,
                        "expires_at": expires_at,
                        "released": False,
                        # a lease taken from a holder that did not release it (crash or stall)
                        "taken_over": current["owner"]
                        if current is not None and not current.get("released")
                        else None,
                    }
                )
            except DuplicateKeyError:
                generation += 1  # somebody took that generation first: look at it
                continue
            generation += 1
            with contextlib.suppress(DuplicateKeyError):  # two first-ever upserts of the head
                await self.collection.update_one(
                    {"_id": key}, {"$set": {"generation": generation, "head": True}}, upsert=True
                )
            return Lease(key, generation, owner, expires_at, started + self.ttl - self.margin)
        return None

    async def acquire(self, key: str, *, wait: float = 10.0) -> Lease:
        """Take `key`, waiting up to `wait` seconds for its holder to release it (or die)."""
        give_up = time.monotonic() + wait
        delay = 0.005
        while True:
            lease = await self.try_acquire(key)
            if lease is not None:
                return lease
            if time.monotonic() >= give_up:
                raise LeaseBusy(key)
            await asyncio.sleep(min(delay, max(give_up - time.monotonic(), 0.001)))
            delay = min(delay * 1.6, 0.2)

    async def release(self, lease: Lease) -> None:
        """Give the key back (only the holder ever writes its own generation)."""
        if lease.released:
            return
        lease.released = True
        await self.collection.update_one(
            {"_id": lease.id, "owner": lease.owner}, {"$set": {"released": True}}
        )

    async def renew(self, lease: Lease) -> None:
        """Push the lease's expiry out by another `ttl`; only while it is still safely held
        (a holder that already ran past its deadline may have been taken over)."""
        lease.check()
        started = time.monotonic()
        expires_at = _now() + timedelta(seconds=self.ttl)
        await self.collection.update_one(
            {"_id": lease.id, "owner": lease.owner}, {"$set": {"expires_at": expires_at}}
        )
        if await self.collection.find_one({"_id": f"{lease.key}#{lease.generation + 1}"}, {"_id": 1}):
            lease.released = True  # the renewal came too late: somebody took over
            raise LeaseLost(f"lease on {lease.key} was taken over")
        lease.expires_at = expires_at
        lease.deadline = started + self.ttl - self.margin

    async def _keep_alive(self, lease: Lease) -> None:
        while True:
            await asyncio.sleep(self.ttl / 3)
            try:
                await self.renew(lease)
            except LeaseLost:
                return

    @contextlib.asynccontextmanager
    async def hold(self, key: str, *, wait: float = 10.0, renew: bool = False) -> AsyncIterator[Lease]:
        """`async with leases.hold(key) as lease:` … write after `lease.check()` … released on exit
        (also on errors and cancellation). `renew=True` keeps a long holder's lease alive while
        its process lives; a dead process stops renewing, so recovery stays bounded by `ttl`."""
        lease = await self.acquire(key, wait=wait)
        keeper = asyncio.create_task(self._keep_alive(lease)) if renew else None
        try:
            yield lease
        finally:
            if keeper is not None:
                keeper.cancel()
                with contextlib.suppress(BaseException):
                    await keeper
            with contextlib.suppress(Exception):
                await asyncio.shield(self.release(lease))

    async def prune(self, older_than: float = 3600.0) -> int:
        """Delete old generations that a newer one follows (FerretDB has no TTL indexes).

        The newest generation of a key stays: the next one is numbered from it."""
        cutoff = _now() - timedelta(seconds=older_than)
        removed = 0
        stale = self.collection.find({"acquired_at": {"$lt": cutoff}}, {"key": 1, "generation": 1})
        async for doc in stale:
            newer = await self.collection.find_one(
                {"_id": f"{doc['key']}#{doc['generation'] + 1}"}, {"_id": 1}
            )
            if newer is not None:
                removed += (await self.collection.delete_one({"_id": doc["_id"]})).deleted_count
        return removed


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
