"""Token revocation shared by every service: a per-user token version in Redis.

Every token carries the version its user had when it was issued (claim `ver`). core-api increments the
user's version when the user is deleted, deactivated, changes role or password, or logs out; from then
on every service refuses the user's older tokens at their next request (one Redis GET of one key, which
a caller may also read in an MGET with its own keys: `revocation_key`). The same increment publishes on
the user's revocation channel (`revocation_channel`), so open event streams close at once.

A version, not a timestamp: JWT `iat` has whole seconds, so "issued before T" cannot tell apart a token
issued in the same second just before and just after a revocation; a counter is exact and needs no
clock agreement between replicas.

When the store cannot be read, authentication fails closed (503, Retry-After): see docs/security.md.
"""

from __future__ import annotations

import json
import logging

from litestar.exceptions import NotAuthorizedException, ServiceUnavailableException
from redis.asyncio import Redis
from redis.exceptions import RedisError

from shared.settings import BaseServiceSettings

log = logging.getLogger(__name__)

#: what a stream subscribed to `revocation_channel` receives
REVOKED_MESSAGE = json.dumps({"type": "auth.revoked"}).encode()
RETRY_AFTER_SECONDS = 2


class RevocationStoreUnavailable(ServiceUnavailableException):
    """503: whether the token was revoked cannot be known; no token is accepted meanwhile."""

    def __init__(self) -> None:
        super().__init__(
            detail="sign-in state cannot be checked right now (the token revocation store is unavailable); "
            "retry shortly",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )


def revocation_key(settings: BaseServiceSettings, user_id: str) -> str:
    """The Redis key holding the user's current token version (absent: 0, never revoked)."""
    return f"{settings.auth_key_prefix}token-version:{user_id}"


def revocation_channel(settings: BaseServiceSettings, user_id: str) -> str:
    """The pub/sub channel a revocation of the user is announced on (`REVOKED_MESSAGE`)."""
    return f"{settings.auth_key_prefix}revoked:{user_id}"


def parse_version(raw: bytes | str | None) -> int:
    return int(raw or 0)


async def current_version(redis: Redis, settings: BaseServiceSettings, user_id: str) -> int:
    """The user's token version: one GET. Raises RevocationStoreUnavailable when Redis does not answer."""
    try:
        raw = await redis.get(revocation_key(settings, user_id))
    except (RedisError, OSError) as exc:
        log.warning("token revocation store unavailable: %s: %s", type(exc).__name__, exc)
        raise RevocationStoreUnavailable() from exc
    return parse_version(raw)


def check_not_revoked(token_version: int, current: int) -> None:
    """401 when the token was issued before the user's latest revocation."""
    if token_version < current:
        raise NotAuthorizedException(
            "this token was revoked (logout, password or role change, deactivation or removal); log in again"
        )


async def revoke_user_tokens(redis: Redis, settings: BaseServiceSettings, user_id: str) -> int:
    """Invalidate every token the user holds (in one MULTI/EXEC: increment, announce); returns the new
    version. No expiry on the key: a version that fell back to 0 would revive tokens of a higher one."""
    try:
        async with redis.pipeline(transaction=True) as pipe:
            pipe.incr(revocation_key(settings, user_id))
            pipe.publish(revocation_channel(settings, user_id), REVOKED_MESSAGE)
            version, _ = await pipe.execute()
    except (RedisError, OSError) as exc:
        log.warning("cannot revoke the tokens of user %s: %s: %s", user_id, type(exc).__name__, exc)
        raise RevocationStoreUnavailable() from exc
    return int(version)
