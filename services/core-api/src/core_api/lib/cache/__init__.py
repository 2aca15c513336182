"""core-api's read cache, by concern:

- `circuit`: the fail-open circuit breaker every Redis call of the cache goes through;
- `generations`: per-empresa area generations and item versions (O(1) invalidation, owed when
  Redis is away), bumped by the services that changed something;
- `store`: the stored response format (prepared headers, ETag computed once);
- `response`: the middleware serving routes that opt in with `opt=cached(area, ttl)`.

See docs/architecture.md ("Read path and cache") for the whole flow.
"""

from core_api.lib.cache.circuit import REDIS_ERRORS, RedisCircuit
from core_api.lib.cache.generations import TenantCache, area_key, version_key
from core_api.lib.cache.response import (
    CachePolicy,
    ResponseCacheMiddleware,
    cached,
    planned_read,
    remember_read,
)
from core_api.lib.cache.store import CachedResponse, etag_of

__all__ = [
    "REDIS_ERRORS",
    "CachePolicy",
    "CachedResponse",
    "RedisCircuit",
    "ResponseCacheMiddleware",
    "TenantCache",
    "area_key",
    "cached",
    "etag_of",
    "planned_read",
    "remember_read",
    "version_key",
]
