"""Admin-only user management inside the caller's empresa."""

from __future__ import annotations

import logging
from contextlib import AbstractAsyncContextManager
from typing import Any

from litestar.exceptions import ServiceUnavailableException

from core_api.domain.users.models import User
from core_api.domain.users.passwords import hash_password
from core_api.domain.users.revocation import revoke
from core_api.domain.users.schemas import UserCreate, UserUpdate
from core_api.lib.crud import TenantCrudService
from core_api.lib.errors import ConflictException, conflict, item
from core_api.lib.repository import TenantRepository, holding

log = logging.getLogger(__name__)
SORT_FIELDS = {"nome": "nome", "email": "email", "createdAt": "created_at"}


class UserRepository(TenantRepository[User]):
    label = "user"
    unique_fields = {"email_unique": "email"}


class UserService(TenantCrudService[User]):
    model = User
    repository = UserRepository
    sort_fields = SORT_FIELDS
    search_fields = ["nome", "email"]
    default_sort = "created_at"

    async def create(self, data: UserCreate) -> User:
        await self._refuse_taken_email(data.email)
        user = User(
            empresa_id=self.repo.empresa_id,
            nome=data.nome,
            email=data.email,
            password_hash=await hash_password(data.password),
            role=data.role,
        )
        return await self.repo.create(user)

    async def update(self, user_id: str, data: UserUpdate) -> User:
        changes: dict[str, Any] = data.changes()
        if "password" in changes:
            changes["password_hash"] = await hash_password(changes.pop("password"))
        # every change of a user holds the empresa's users lease: "the last active admin stays"
        # spans documents, so two admins demoting each other must run one after the other
        async with self._admins_rule(), self.repo.locked(user_id) as before:
            if "email" in changes and changes["email"] != before.email:
                await self._refuse_taken_email(changes["email"])
            loses_admin = (
                before.role == "admin"
                and before.active
                and (changes.get("role", "admin") != "admin" or changes.get("active", True) is False)
            )
            if loses_admin:
                await self._refuse_last_admin(before)
            revokes = (
                "password_hash" in changes
                or changes.get("role", before.role) != before.role
                or (before.active and changes.get("active", True) is False)
            )
            if revokes:
                await self._revoke(str(before.id))
            after = await self.repo.write(before, changes)
        if revokes:
            await self._revoke(str(before.id), after_write=True)
        return after

    async def delete(self, user_id: str) -> None:
        async with self._admins_rule():
            user = await self.repo.get(user_id)
            if user.role == "admin" and user.active:
                await self._refuse_last_admin(user)
            await self._revoke(str(user.id))
            await self.repo.delete(user.id)  # type: ignore[arg-type]
        await self._revoke(str(user.id), after_write=True)

    def _admins_rule(self) -> AbstractAsyncContextManager[Any]:
        return holding(self.repo.db, f"users-admins:{self.repo.empresa_id}", "the empresa's users")

    # -- rules ----------------------------------------------------------------------------------
    async def _revoke(self, user_id: str, after_write: bool = False) -> None:
        """End the user's sessions everywhere (shared.revocation).

        Before the write, and refusing the change (503) when the store is down, so a change never lands
        with the old tokens still valid; once more after it, so a token issued in between (a login
        racing the change) is not left valid with the old role or for a removed user.
        """
        try:
            await revoke(self.state, user_id)
        except ServiceUnavailableException:
            if not after_write:
                raise
            log.error(
                "user %s changed, but the second revocation failed; tokens issued meanwhile stay valid",
                user_id,
            )

    async def _refuse_last_admin(self, user: User) -> None:
        others = await self.repo.count({"role": "admin", "active": True, "_id": {"$ne": user.id}})
        if others == 0:
            raise self._last_admin_error()

    @staticmethod
    def _last_admin_error() -> ConflictException:
        return conflict(
            "the empresa would be left without an active admin; promote another user to admin first",
            "state",
            item("user", field="role"),
        )

    @staticmethod
    async def _refuse_taken_email(email: str) -> None:
        # e-mail is the login, unique across every empresa: this lookup is deliberately unscoped
        if await User.find_one({"email": email}) is not None:
            raise conflict("a user with this email already exists", "duplicate", item("user", field="email"))
