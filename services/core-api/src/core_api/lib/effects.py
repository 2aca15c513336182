"""Once per event: the guard an event handler puts around each effect it records.

Delivery is at least once (a redelivery after a crash, a claim, a broker restart that forgot the
bus's de-duplication keys, a re-published outcome), so a handler must record each of its effects
once per event id whatever the delivery count. The guard is a unique-key insert into
`applied_effects` (`_id = "<event id>|<effect>"`), the one write FerretDB v1 decides atomically;
a conditional update would not do (FerretDB reads, changes and writes it back: racing writers
all "win", see docs/mongodb-vs-ferretdb.md).

Protocol (`apply_once`), run while the caller holds the lease of the document the effect changes
(`TenantRepository.locked`), so nobody else applies the same effect meanwhile:

1. insert the guard as `applying`: a duplicate key means some delivery got here first;
   `applied` → skip, the effect is there;
2. apply the effect (a compare-and-set write under the lease);
3. mark the guard `applied`.

A crash between 1 and 3 leaves an `applying` guard: the next delivery applies again, so every
effect must also be safe to repeat by its content (a document entry is keyed by its job id, a job
moves to `done` once). A failed apply removes its guard (compensation) and the bus retries.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from core_api.lib.documents import utcnow

#: the guards, one document per (event id, effect); nothing else writes this collection
APPLIED_EFFECTS = "applied_effects"


def effect_key(event_id: str, effect: str) -> str:
    return f"{event_id}|{effect}"


async def apply_once(
    db: AsyncDatabase[Any], event_id: str, effect: str, apply: Callable[[], Awaitable[Any]]
) -> bool:
    """Run `apply` unless this event's `effect` was applied already; True when it ran.

    Call it holding the lease of the document `apply` writes (see the module doc)."""
    guards = db[APPLIED_EFFECTS]
    key = effect_key(event_id, effect)
    try:
        await guards.insert_one({"_id": key, "state": "applying", "claimed_at": utcnow()})
    except DuplicateKeyError:
        guard = await guards.find_one({"_id": key}, {"state": 1})
        if guard is not None and guard.get("state") == "applied":
            return False
        if guard is None:
            # removed by a failed attempt's compensation between our insert and this read: claim again
            return await apply_once(db, event_id, effect, apply)
        # an earlier delivery claimed it and stopped before confirming: finish it (the lease is ours)
    try:
        await apply()
    except BaseException:
        with contextlib.suppress(Exception):
            await guards.delete_one({"_id": key, "state": "applying"})
        raise
    # the caller's lease makes this read-modify-write (on FerretDB) the only writer of the guard
    await guards.update_one({"_id": key}, {"$set": {"state": "applied", "applied_at": utcnow()}})
    return True


async def applied(db: AsyncDatabase[Any], event_id: str, effect: str) -> bool:
    """Whether this event's effect is recorded as applied."""
    guard = await db[APPLIED_EFFECTS].find_one({"_id": effect_key(event_id, effect)}, {"state": 1})
    return guard is not None and guard.get("state") == "applied"
