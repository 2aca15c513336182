"""Login rate limiting in Redis with fixed windows, per account and per client address.

- per address: every attempt counts; more than N in the window → 429 (slows credential stuffing);
- per account: failed logins count; N failures lock the account's logins until the window ends.

The window starts with the first hit (`SET key 0 EX window NX` then `INCR`), so `Retry-After` is
the key's remaining TTL. If Redis is down the limiter fails open: logins still work, a warning is
logged, because locking every user out is worse than a short window without limits.
"""

from __future__ import annotations

import hashlib
import logging

from litestar.exceptions import TooManyRequestsException
from redis.asyncio import Redis
from redis.exceptions import RedisError

from core_api.settings import CoreApiSettings

log = logging.getLogger(__name__)


def too_many(retry_after: int, what: str) -> TooManyRequestsException:
    retry_after = max(retry_after, 1)
    return TooManyRequestsException(
        f"too many {what}; try again in {retry_after} seconds",
        headers={"Retry-After": str(retry_after)},
        extra={"retryAfter": retry_after},
    )


class LoginRateLimiter:
    def __init__(self, redis: Redis, settings: CoreApiSettings) -> None:
        self.redis = redis
        self.settings = settings
        # one namespace per database, so stacks (and test runs) sharing a Redis do not collide
        self.prefix = f"{settings.mongodb_db}:login-rl"

    def _account_key(self, email: str) -> str:
        return f"{self.prefix}:account:{hashlib.sha256(email.encode()).hexdigest()[:32]}"

    async def hit_address(self, address: str, action: str = "login") -> None:
        """Count one attempt from `address`; 429 when over the per-address limit."""
        key = f"{self.prefix}:{action}:address:{address}"
        window = self.settings.login_address_window_seconds
        try:
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.set(key, 0, ex=window, nx=True)
                pipe.incr(key)
                pipe.ttl(key)
                _, count, ttl = await pipe.execute()
        except (RedisError, OSError) as exc:
            log.warning("login rate limit unavailable (address), allowing: %s", exc)
            return
        if count > self.settings.login_max_attempts_per_address:
            raise too_many(ttl if ttl > 0 else window, "attempts from your address")

    async def check_account(self, email: str) -> None:
        """429 when the account has used up its failed attempts in the current window."""
        key = self._account_key(email)
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                pipe.get(key)
                pipe.ttl(key)
                count, ttl = await pipe.execute()
        except (RedisError, OSError) as exc:
            log.warning("login rate limit unavailable (account), allowing: %s", exc)
            return
        if count is not None and int(count) >= self.settings.login_max_failures_per_account:
            raise too_many(ttl if ttl > 0 else self.settings.login_account_window_seconds, "failed logins")

    async def record_failure(self, email: str) -> None:
        key = self._account_key(email)
        try:
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.set(key, 0, ex=self.settings.login_account_window_seconds, nx=True)
                pipe.incr(key)
                await pipe.execute()
        except (RedisError, OSError) as exc:
            log.warning("login rate limit unavailable (record), ignoring: %s", exc)

    async def reset_account(self, email: str) -> None:
        try:
            await self.redis.delete(self._account_key(email))
        except (RedisError, OSError) as exc:
            log.warning("login rate limit unavailable (reset), ignoring: %s", exc)
