"""Registration, login, token refresh and "who am I".

Logins look users up by e-mail across every empresa (the e-mail is the login, unique platform-wide);
that is the one deliberate unscoped read, before a tenant is known. Everything after uses the
principal's empresa.
"""

from __future__ import annotations

import contextlib
import logging
from datetime import UTC, datetime

from beanie import PydanticObjectId
from bson.errors import InvalidId
from litestar.datastructures import State
from litestar.exceptions import NotAuthorizedException
from pymongo.errors import DuplicateKeyError
from redis.exceptions import RedisError
from shared.auth import Principal, decode_token, issue_token
from shared.revocation import check_not_revoked

from core_api.domain.auth.rate_limit import LoginRateLimiter
from core_api.domain.auth.schemas import LoginRequest, RegisterRequest, TokenPair
from core_api.domain.empresas.models import Empresa
from core_api.domain.users.models import User
from core_api.domain.users.passwords import hash_password, needs_rehash, verify_password
from core_api.domain.users.revocation import revoke, version_in_redis
from core_api.lib.errors import ConflictException, conflict, item
from core_api.lib.repository import TenantRepository
from core_api.settings import CoreApiSettings

log = logging.getLogger(__name__)

WRONG_LOGIN = "wrong e-mail or password"


def _oid(value: str) -> PydanticObjectId:
    try:
        return PydanticObjectId(value)
    except (InvalidId, TypeError, ValueError):
        raise NotAuthorizedException("Invalid token") from None


def _email_conflict() -> ConflictException:
    return conflict("a user with this email already exists", "duplicate", item("user", field="admin.email"))


async def create_empresa_with_admin(data: RegisterRequest) -> tuple[Empresa, User]:
    """A new empresa and its first admin (also used by the `create-empresa` CLI command); 409 when the
    e-mail is taken (the HTTP route hides that, see AuthService.register).

    The password is hashed before the e-mail is looked up, so a taken e-mail costs the same Argon2 time
    as a free one. Without transactions: if the admin cannot be created the empresa is removed again
    (the unique e-mail index is what makes two racing registrations create one account).
    """
    password_hash = await hash_password(data.admin.password)
    if await User.find_one({"email": data.admin.email}) is not None:
        raise _email_conflict()
    empresa = await Empresa(nome=data.empresa.nome, cnpj=data.empresa.cnpj).insert()
    try:
        admin = await User(
            empresa_id=empresa.id,
            nome=data.admin.nome,
            email=data.admin.email,
            password_hash=password_hash,
            role="admin",
        ).insert()
    except DuplicateKeyError:
        await empresa.delete()
        raise _email_conflict() from None
    except BaseException:
        await empresa.delete()
        raise
    return empresa, admin


class AuthService:
    def __init__(self, state: State) -> None:
        self.state = state
        self.settings: CoreApiSettings = state.settings
        self.redis = state.redis
        self.limiter = LoginRateLimiter(state.redis, state.settings)

    # -- register -------------------------------------------------------------------------------
    async def register(self, data: RegisterRequest, address: str) -> None:
        """Create the empresa and its admin when the e-mail is free; otherwise change nothing.

        The caller gets the same answer either way (status, body, and about the same time: one
        Argon2 hash in both branches), so registration cannot tell whether an e-mail has an account.
        The account exists only if it was new: logging in is how its owner finds out.
        """
        await self.limiter.hit_address(address, action="register")
        try:
            await create_empresa_with_admin(data)
        except ConflictException:
            log.info("registration with an e-mail that already has an account: nothing created")

    # -- login ----------------------------------------------------------------------------------
    async def login(self, data: LoginRequest, address: str) -> TokenPair:
        email = data.email.strip().lower()
        await self.limiter.hit_address(address)
        await self.limiter.check_account(email)
        user = await User.find_one({"email": email})
        ok = await verify_password(user.password_hash if user else None, data.password)
        if not ok or user is None or not user.active:
            await self.limiter.record_failure(email)
            raise NotAuthorizedException(WRONG_LOGIN)
        await self.limiter.reset_account(email)
        if needs_rehash(user.password_hash):
            new_hash = await hash_password(data.password)
            with contextlib.suppress(ConflictException):  # the user is being changed: rehash next time
                assert user.id is not None  # read from MongoDB
                await TenantRepository(User, user.empresa_id, "user").update(
                    user.id, {"password_hash": new_hash}
                )
        return await self._pair(user)

    # -- refresh --------------------------------------------------------------------------------
    async def refresh(self, encoded: str) -> TokenPair:
        """A new pair for a valid refresh token of an active user. Each refresh token works once."""
        token = decode_token(self.settings, encoded, "refresh")
        user = await User.find_one({"_id": _oid(token.sub)})
        if user is None or not user.active or str(user.empresa_id) != token.empresa_id:
            raise NotAuthorizedException("this refresh token does not belong to an active user")
        check_not_revoked(token.ver, await self._version(user))
        if token.jti:
            await self._spend(str(token.jti), token.exp)
        return await self._pair(user)

    # -- logout ---------------------------------------------------------------------------------
    async def logout(self, principal: Principal) -> None:
        """Ends every session of the caller: all their access and refresh tokens stop working in every
        service, and their open event streams close (shared.revocation)."""
        await revoke(self.state, principal.user_id)

    async def _spend(self, jti: str, exp: datetime) -> None:
        ttl = max(int((exp - datetime.now(UTC)).total_seconds()), 1)
        key = f"{self.settings.mongodb_db}:refresh-used:{jti}"
        try:
            fresh = await self.redis.set(key, 1, ex=ttl, nx=True)
        except (RedisError, OSError) as exc:
            log.warning("cannot record refresh token use, allowing: %s", exc)
            return
        if not fresh:
            raise NotAuthorizedException("this refresh token was already used; log in again")

    async def _version(self, user: User) -> int:
        """The user's token version: Redis's, or the user's own copy while Redis is down."""
        version = await version_in_redis(self.state, str(user.id))
        return version if version is not None else user.token_version

    # -- me -------------------------------------------------------------------------------------
    async def me(self, principal: Principal) -> tuple[User, Empresa]:
        empresa_id = _oid(principal.empresa_id)
        user = await User.find_one({"_id": _oid(principal.user_id), "empresa_id": empresa_id})
        empresa = await Empresa.get(empresa_id)
        if user is None or empresa is None:
            raise NotAuthorizedException("this token no longer names a user")
        return user, empresa

    async def _pair(self, user: User) -> TokenPair:
        # tokens carry the user's current token version: a later revocation makes them stale
        version = await self._version(user)
        claims = {
            "user_id": str(user.id),
            "empresa_id": str(user.empresa_id),
            "role": user.role,
            "version": version,
        }
        access, ttl = issue_token(self.settings, typ="access", **claims)  # type: ignore[arg-type]
        refresh, _ = issue_token(self.settings, typ="refresh", **claims)  # type: ignore[arg-type]
        return TokenPair(access_token=access, refresh_token=refresh, expires_in=ttl)
