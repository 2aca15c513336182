"""/api/v1/auth: register, login, refresh (public), me and logout (any authenticated user)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.exceptions import NotAuthorizedException
from litestar.params import JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_202_ACCEPTED, HTTP_204_NO_CONTENT
from shared.auth import Principal

from core_api.domain.auth.schemas import (
    LoginRequest,
    MeResponse,
    RefreshRequest,
    RegisterAccepted,
    RegisterRequest,
    TokenPair,
)
from core_api.domain.auth.services import AuthService
from core_api.domain.empresas.schemas import EmpresaRead
from core_api.domain.users.schemas import UserRead
from core_api.lib.errors import ConflictException


async def _provide_auth_service(state: State) -> AuthService:
    return AuthService(state)


def _address(request: Request[Any, Any, Any]) -> str:
    # behind the gateway uvicorn's proxy_headers has already put the real client here
    return request.client.host if request.client else "unknown"


class AuthController(Controller):
    path = "/api/v1/auth"
    tags = ["auth"]
    dependencies = {"auth_service": Provide(_provide_auth_service, sync_to_thread=None)}

    @post(
        "/register",
        summary="Register a new empresa and its first admin",
        description=(
            "Always 202 with the same body, whether or not the e-mail already has an account, so this "
            "route cannot be used to find out which e-mails are registered. The empresa and its admin are "
            "created only when the e-mail was free (never a second account for an e-mail); log in with "
            "the e-mail and password to use it. Rate limited per client address (429 with Retry-After)."
        ),
        status_code=HTTP_202_ACCEPTED,
        security=[],
        raises=[ConflictException],
    )
    async def register(
        self,
        auth_service: NamedDependency[AuthService],
        data: JSONBody[RegisterRequest],
        request: Request[Any, Any, Any],
    ) -> RegisterAccepted:
        await auth_service.register(data, _address(request))
        return RegisterAccepted()

    @post(
        "/login",
        summary="Log in with e-mail and password; returns an access and a refresh token",
        description="Rate limited per account (failed attempts) and per client address; 429 carries Retry-After.",
        status_code=HTTP_200_OK,
        security=[],
        raises=[NotAuthorizedException],
    )
    async def login(
        self,
        auth_service: NamedDependency[AuthService],
        data: JSONBody[LoginRequest],
        request: Request[Any, Any, Any],
    ) -> TokenPair:
        return await auth_service.login(data, _address(request))

    @post(
        "/refresh",
        summary="Exchange a refresh token (once) for a new token pair",
        description="Each refresh token works once: a second use is 401. The user must still be active.",
        status_code=HTTP_200_OK,
        security=[],
        raises=[NotAuthorizedException],
    )
    async def refresh(
        self, auth_service: NamedDependency[AuthService], data: JSONBody[RefreshRequest]
    ) -> TokenPair:
        return await auth_service.refresh(data.refresh_token)

    @get(
        "/me",
        summary="The authenticated user and their empresa",
        description="Who the access token belongs to: the user (id, nome, email, role) and the empresa's profile.",
    )
    async def me(
        self, auth_service: NamedDependency[AuthService], request: Request[Principal, Any, Any]
    ) -> MeResponse:
        user, empresa = await auth_service.me(request.user)
        return MeResponse(user=UserRead.model_validate(user), empresa=EmpresaRead.model_validate(empresa))

    @post(
        "/logout",
        summary="Log out everywhere: every token of the caller stops working, open event streams close",
        status_code=HTTP_204_NO_CONTENT,
    )
    async def logout(
        self, auth_service: NamedDependency[AuthService], request: Request[Principal, Any, Any]
    ) -> None:
        """Revokes all of the caller's access and refresh tokens in every service within a second."""
        await auth_service.logout(request.user)
