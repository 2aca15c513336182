"""Who a user is right now (active, empresa, role), kept in process and checked against revocation.

Every change of that state (deactivation, role change, removal) bumps the user's token version
(shared.revocation) before and after the write, and every authenticated request reads that version
from Redis anyway. So an entry stored with the version it was loaded under is exact for as long as
the version is unchanged: no Redis key of its own, no invalidation to send, no MongoDB read per
request, and a change is seen at the next request in every process. Only active users are kept (a
reactivation does not bump the version); the TTL bounds what a change made behind the API costs.
"""

from __future__ import annotations

import dataclasses
import time

USER_STATE_TTL_SECONDS = 30.0
MAX_USERS = 10_000


@dataclasses.dataclass(frozen=True, slots=True)
class UserState:
    active: bool
    empresa_id: str
    role: str
    token_version: int


class UserStates:
    """user id -> (token version, state, expiry), bounded (the oldest entries go first)."""

    def __init__(self, ttl: float | None = None, max_users: int = MAX_USERS) -> None:
        self.ttl = USER_STATE_TTL_SECONDS if ttl is None else ttl
        self.max_users = max_users
        self._entries: dict[str, tuple[int, UserState, float]] = {}

    def get(self, user_id: str, version: int) -> UserState | None:
        entry = self._entries.get(user_id)
        if entry is None or entry[0] != version or entry[2] < time.monotonic():
            return None
        return entry[1]

    def put(self, user_id: str, version: int, state: UserState) -> None:
        if not state.active or self.ttl <= 0:
            self._entries.pop(user_id, None)
            return
        if len(self._entries) >= self.max_users and user_id not in self._entries:
            self._entries.pop(next(iter(self._entries)))
        self._entries[user_id] = (version, state, time.monotonic() + self.ttl)
