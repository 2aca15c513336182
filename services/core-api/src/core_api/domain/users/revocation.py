"""core-api's side of token revocation (shared.revocation), with a copy of each user's token version on
the user's document.

Redis holds the version every service checks. core-api also writes it to MongoDB, so while Redis is
down core-api still knows it (from the user it loads anyway) and keeps refusing revoked tokens, instead
of refusing everyone; pdf-service, which has no user data, fails closed then. A revocation itself needs
Redis: without it the change is refused (503), never recorded where pdf-service cannot see it.
"""

from __future__ import annotations

from beanie import PydanticObjectId
from litestar.datastructures import State
from shared.revocation import RevocationStoreUnavailable, current_version, revoke_user_tokens

from core_api.domain.users.models import User


async def revoke(state: State, user_id: str) -> int:
    """Every token of the user stops working in every service; returns the new version."""
    version = await revoke_user_tokens(state.revocation_redis, state.settings, user_id)
    # $max: two racing revocations never move the copy backwards (the user may be gone: no-op)
    await User.get_pymongo_collection().update_one(
        {"_id": PydanticObjectId(user_id)}, {"$max": {"token_version": version}}
    )
    return version


async def version_in_redis(state: State, user_id: str) -> int | None:
    """The user's current token version, or None when Redis does not answer (then use the user's copy)."""
    try:
        return await current_version(state.revocation_redis, state.settings, user_id)
    except RevocationStoreUnavailable:
        return None
