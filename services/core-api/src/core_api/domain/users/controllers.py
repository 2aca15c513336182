"""/api/v1/users: admin-only user management in the caller's empresa."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Response, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter
from shared.auth import admin_guard

from core_api.domain.users.schemas import UserCreate, UserRead, UserUpdate
from core_api.domain.users.services import UserService
from core_api.lib.csv_export import list_response
from core_api.lib.deps import provide_service
from core_api.lib.errors import ConflictException
from core_api.lib.listing import ListParams, provide_list_params
from core_api.lib.schemas import Page


class UserController(Controller):
    path = "/api/v1/users"
    tags = ["users"]
    guards = [admin_guard]
    dependencies = {"users_service": provide_service(UserService), "list_params": provide_list_params}

    @get(
        "/",
        summary="List the empresa's users (admin)",
        description="Users of the caller's empresa, paged; `q` searches nome and email. Admins only (403 for users).",
    )
    async def list_users(
        self,
        users_service: NamedDependency[UserService],
        list_params: NamedDependency[ListParams],
        q: Annotated[
            str | None, QueryParameter(max_length=100, description="search in nome and email")
        ] = None,
    ) -> Response[Page[UserRead]]:
        return await list_response(
            list_params,
            UserRead,
            lambda p: users_service.list(p, q),
            UserRead.model_validate,
            "users",
        )

    @post(
        "/",
        summary="Create a user in the empresa (admin)",
        description="The user joins the caller's empresa with the role given (default `user`); 409 when the e-mail already has an account.",
        raises=[ConflictException],
    )
    async def create_user(
        self, users_service: NamedDependency[UserService], data: JSONBody[UserCreate]
    ) -> UserRead:
        return UserRead.model_validate(await users_service.create(data))

    @get(
        "/{user_id:str}",
        summary="Get one user (admin)",
        description="A user of the caller's empresa; another empresa's or an unknown id is 404.",
    )
    async def get_user(self, users_service: NamedDependency[UserService], user_id: FromPath[str]) -> UserRead:
        return UserRead.model_validate(await users_service.get(user_id))

    @patch(
        "/{user_id:str}",
        summary="Change a user's name, e-mail, password, role or active flag (admin)",
        description="Omitted fields are unchanged. Deactivating a user, changing their role or password ends their sessions; the last active admin cannot be demoted, deactivated (409).",
        raises=[ConflictException],
    )
    async def update_user(
        self, users_service: NamedDependency[UserService], user_id: FromPath[str], data: JSONBody[UserUpdate]
    ) -> UserRead:
        return UserRead.model_validate(await users_service.update(user_id, data))

    @delete(
        "/{user_id:str}",
        summary="Delete a user (admin); the last admin cannot be removed",
        description="Removes the user and ends their sessions; 409 when it is the empresa's last active admin.",
        raises=[ConflictException],
    )
    async def delete_user(self, users_service: NamedDependency[UserService], user_id: FromPath[str]) -> None:
        await users_service.delete(user_id)
