"""core-api's JWT auth: Litestar's JWTAuth from `shared.auth`, with users loaded from MongoDB.

A token is accepted only when it was not revoked (shared.revocation: logout, password or role change,
deactivation, removal), its user still exists, is active, and belongs to the empresa named in the token
(a token re-labelled with another empresa, even if correctly signed, is 401). The token version comes
from Redis, or, when Redis is down, from the user's own copy (core_api.domain.users.revocation).
"""

from __future__ import annotations

import logging
from typing import Any

from beanie import PydanticObjectId
from bson.errors import InvalidId
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException
from litestar.security.jwt import JWTAuth
from redis.exceptions import RedisError
from shared.auth import PlatformToken, Principal, build_jwt_auth, principal_from_token
from shared.revocation import check_not_revoked, parse_version, revocation_key

from core_api.domain.users.models import User
from core_api.domain.users.state import UserState, UserStates
from core_api.lib.cache import planned_read, remember_read
from core_api.settings import CoreApiSettings

log = logging.getLogger(__name__)

#: routes reachable without a token
PUBLIC_ROUTES = ["^/api/v1/auth/register", "^/api/v1/auth/login", "^/api/v1/auth/refresh"]


async def retrieve_user(token: PlatformToken, connection: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    principal = principal_from_token(token, connection)
    try:
        user_id = PydanticObjectId(principal.user_id)
    except (InvalidId, TypeError, ValueError):
        raise NotAuthorizedException("Invalid token") from None
    state = connection.app.state
    # one Redis command: the token version, and for a cached GET the entry and its generation too
    # (core_api.lib.cache.planned_read); who the user is comes from this process's copy, valid while
    # that version is unchanged (core_api.domain.users.state), else from MongoDB
    version = await _read_version(connection, principal)
    users: UserStates = state.user_states
    current = users.get(principal.user_id, version) if version is not None else None
    if current is None:
        current = await _load_user(user_id)
        if current is not None and version is not None:
            users.put(principal.user_id, version, current)
    # Redis did not answer: the user's document holds the version (read fresh above, not cached)
    if current is None or not current.active or current.empresa_id != principal.empresa_id:
        raise NotAuthorizedException("this token does not belong to an active user of its empresa")
    check_not_revoked(token.ver, version if version is not None else current.token_version)
    # the role may have changed since the token was issued: the database is authoritative
    return Principal(
        user_id=principal.user_id,
        empresa_id=current.empresa_id,
        role=current.role,  # type: ignore[arg-type]
        token=principal.token,
        token_version=principal.token_version,
    )


async def _read_version(connection: ASGIConnection[Any, Any, Any, Any], principal: Principal) -> int | None:
    """The user's token version (None: Redis did not answer), read together with the cache entry the
    request will need, if any."""
    state = connection.app.state
    plan = planned_read(connection.scope, principal.empresa_id, principal.role)
    keys = [revocation_key(state.settings, principal.user_id), *(plan or ())]
    try:
        values = await state.revocation_redis.mget(keys)
    except (RedisError, OSError) as exc:
        log.warning("token revocation store unavailable: %s: %s", type(exc).__name__, exc)
        return None
    if plan is not None:
        remember_read(connection.scope, plan, values[1:])
    return parse_version(values[0])


async def _load_user(user_id: PydanticObjectId) -> UserState | None:
    user = await User.get(user_id)
    if user is None:
        return None
    return UserState(
        active=user.active, empresa_id=str(user.empresa_id), role=user.role, token_version=user.token_version
    )


def jwt_auth(settings: CoreApiSettings) -> JWTAuth[Any, PlatformToken]:
    return build_jwt_auth(settings, retrieve_user_handler=retrieve_user, exclude=PUBLIC_ROUTES)
