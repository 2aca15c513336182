"""Dependency injection helpers: services are built per request for the caller's empresa."""

from __future__ import annotations

from typing import Any, Protocol, TypeVar

from litestar import Request
from litestar.datastructures import State
from litestar.di import Provide
from shared.auth import Principal


class DomainService(Protocol):
    def __init__(self, principal: Principal, state: State) -> None: ...


S = TypeVar("S", bound=DomainService)


def provide_service(cls: type[S]) -> Provide:
    """`Provide` that builds `cls(principal, state)` for the authenticated caller.

    Because the service gets the principal (never a client-supplied empresa id), everything it does
    is scoped to the caller's empresa through `TenantRepository`.
    """

    async def _provide(request: Request[Principal, Any, Any], state: State) -> S:
        return cls(request.user, state)

    return Provide(_provide)


def service_for_empresa(cls: type[S], empresa_id: str, state: State) -> S:
    """`cls` for work no user asked for (an event handler), scoped to `empresa_id` as a request of
    that empresa would be: the same services, the same tenant boundary."""
    return cls(Principal(user_id="", empresa_id=empresa_id, role="user"), state)
