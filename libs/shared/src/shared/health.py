"""Liveness and readiness routes, the same in every service."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from litestar import Controller, get
from litestar.datastructures import State
from litestar.openapi import ResponseSpec
from litestar.response import Response
from litestar.status_codes import HTTP_200_OK, HTTP_503_SERVICE_UNAVAILABLE

HealthCheck = Callable[[State], Awaitable[Any]]


@dataclass
class ReadinessReport:
    """What readiness answers, ready (200) or not (503): each check's result, the failed ones."""

    status: str
    service: str
    checks: dict[str, str]
    failed: list[str] | None = None


async def _run_check(check: HealthCheck, state: State, timeout: float) -> str | None:
    try:
        await asyncio.wait_for(check(state), timeout)
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready"; the message says which
        return f"{type(exc).__name__}: {exc}"[:300] or "failed"
    return None


def health_controller(
    service: str, checks: Mapping[str, HealthCheck], timeout: float = 2.0
) -> type[Controller]:
    """Build a controller with `GET /api/v1/health` and `GET /api/v1/health/ready`."""

    class HealthController(Controller):
        path = "/api/v1/health"
        tags = ["health"]
        opt = {"exclude_from_auth": True}  # noqa: RUF012

        @get(
            "/",
            summary="Liveness: the process is up",
            description="200 while the process runs and serves HTTP; it checks nothing else (use readiness for dependencies).",
            cache=False,
        )
        async def live(self) -> dict[str, str]:
            return {"status": "ok", "service": service}

        @get(
            "/ready",
            summary="Readiness: MongoDB and Redis answer (503 naming the one that failed otherwise)",
            description="200 when every dependency answered its ping; 503 with `failed` naming the checks that did not (also while draining before a shutdown).",
            cache=False,
            responses={
                503: ResponseSpec(ReadinessReport, description="Not ready: `failed` names the checks")
            },
        )
        async def ready(self, state: State) -> Response[dict[str, Any]]:
            names = list(checks)
            results = await asyncio.gather(*(_run_check(checks[n], state, timeout) for n in names))
            report = {
                n: ("ok" if err is None else f"error: {err}") for n, err in zip(names, results, strict=True)
            }
            failed = [n for n, err in zip(names, results, strict=True) if err is not None]
            body: dict[str, Any] = {
                "status": "ok" if not failed else "unavailable",
                "service": service,
                "checks": report,
            }
            if failed:
                body["failed"] = failed
            return Response(body, status_code=HTTP_503_SERVICE_UNAVAILABLE if failed else HTTP_200_OK)

    return HealthController
