"""One winner for every conditional write, on FerretDB v1 as on MongoDB: leases built on unique inserts.

FerretDB v1 makes `update_one`, `$inc`, `find_one_and_update` and conditional updates a read, a
change in Go and a write-back of the whole document, so racing writers all "win" (see
docs/mongodb-vs-ferretdb.md). The one thing it decides atomically is an insert that collides on a
unique key. A `Lease` is exactly that: one document `_id = "<key>"`, inserted to take the key
and deleted to give it back; while it exists every other insert of that `_id` collides and loses.
So for any key at most one holder is current, and whoever holds it can read, check and write the
protected documents without anyone writing in between. Uncontended, that is two round trips per
write (the insert and the delete).

A holder that dies leaves its lease behind. Once `expires_at` has passed, the next writer removes
it and takes the key — but removing is a delete, and FerretDB's deletes are read-then-delete too,
so two writers finding the same dead lease must not both remove "it" (the second could remove the
first's fresh lease). They first race for a *takeover ticket*, `_id = "<key>!<dead owner>!<n>"`,
again a unique insert: only its winner deletes the dead lease (by owner). A ticket whose winner
died in turn is superseded by ticket `n + 1` after `ttl`. Recovery is therefore bounded by the
lease time (`ttl`, 15 s by default).

A lease is only as good as its holder's respect for its deadline: before writing, a holder calls
`Lease.check()`, which refuses once less than `margin` of the lease is left, so a slow holder
stops before anybody may take over (and a holder past its deadline never deletes its lease: it may
be somebody else's by then). Writes made under a lease should also be conditional on what was
read (a version number): on MongoDB proper that conditional update is atomic by itself and fences
even a holder that stalled past its deadline; on FerretDB the lease is what makes it safe.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from shared.transient import retrying

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


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


@dataclass
class Lease:
    key: str
    owner: str
    expires_at: datetime
    #: monotonic deadline after which `check()` refuses (expiry minus the safety margin)
    deadline: float
    released: bool = field(default=False)
    #: the owner of the dead lease this one replaced, if any
    taken_over: str | None = None

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
        """Take `key` now if it is free (never taken, released, or expired); None if held."""
        taken_over: str | None = None
        for _ in range(4):
            now = _now()
            started = time.monotonic()
            owner = secrets.token_hex(8)
            expires_at = now + timedelta(seconds=self.ttl)
            lease_doc = {
                "_id": key,
                "owner": owner,
                "acquired_at": now,
                "expires_at": expires_at,
                "taken_over": taken_over,
            }
            try:
                # a unique insert: a repeat after a transient failure collides if the first try
                # was applied, and then the lease found is ours (checked by owner below)
                await retrying(partial(self.collection.insert_one, lease_doc), what=f"lease {key}")
            except DuplicateKeyError:
                current = await retrying(lambda: self.collection.find_one({"_id": key}), what=f"lease {key}")
                if current is None:
                    continue  # released in the meantime: try again
                if current["owner"] == owner:
                    return Lease(
                        key, owner, expires_at, started + self.ttl - self.margin, taken_over=taken_over
                    )
                if _aware(current["expires_at"]) > now:
                    return None
                # its holder died (or stalled past its deadline): one of us removes the lease
                if not await self._win_takeover(key, current["owner"]):
                    return None
                await self.collection.delete_one({"_id": key, "owner": current["owner"]})
                taken_over = current["owner"]
                continue
            return Lease(key, owner, expires_at, started + self.ttl - self.margin, taken_over=taken_over)
        return None

    async def _win_takeover(self, key: str, dead_owner: str) -> bool:
        """Of everyone who found `dead_owner`'s lease expired, elect one to delete it."""
        for n in range(16):
            now = _now()
            ticket = f"{key}!{dead_owner}!{n}"
            try:
                await self.collection.insert_one(
                    {"_id": ticket, "ticket_for": key, "dead_owner": dead_owner, "acquired_at": now}
                )
                return True
            except DuplicateKeyError:
                other = await self.collection.find_one({"_id": ticket})
                if other is not None and _aware(other["acquired_at"]) + timedelta(seconds=self.ttl) > now:
                    return False  # somebody is taking over right now
        return False

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
        """Give the key back. Past its deadline a lease may already be somebody else's (its key
        taken over): then it is left alone to expire, never deleted."""
        if lease.released:
            return
        lease.released = True
        if time.monotonic() <= lease.deadline:
            # by owner: a repeat deletes nothing more (a lease left behind would block its key for `ttl`)
            await retrying(
                lambda: self.collection.delete_one({"_id": lease.key, "owner": lease.owner}),
                what=f"release of {lease.key}",
            )

    async def renew(self, lease: Lease) -> None:
        """Push the lease's expiry out by another `ttl`; only while it is still safely held
        (a holder that already ran past its deadline may have been taken over)."""
        lease.check()
        started = time.monotonic()
        expires_at = _now() + timedelta(seconds=self.ttl)
        await self.collection.update_one(
            {"_id": lease.key, "owner": lease.owner}, {"$set": {"expires_at": expires_at}}
        )
        current = await self.collection.find_one({"_id": lease.key}, {"owner": 1})
        if current is None or current["owner"] != lease.owner:
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
        """Delete old takeover tickets (FerretDB has no TTL indexes). A ticket only matters while
        its takeover runs (at most `ttl`); should one go earlier, the dead lease it was for is just
        taken over again."""
        cutoff = _now() - timedelta(seconds=max(older_than, self.ttl * 2))
        result = await self.collection.delete_many(
            {"ticket_for": {"$exists": True}, "acquired_at": {"$lt": cutoff}}
        )
        return result.deleted_count
