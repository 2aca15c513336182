"""HTTP errors of the domain that Litestar does not define, and the `extra` of each kind.

The shapes are `shared.errors`'s (one per kind, documented in OpenAPI); these helpers build them so
raise sites say what they mean: `conflict("...", "taken", item("placa", id=..., label="P-01"))`.
"""

from __future__ import annotations

from typing import Any

from litestar.exceptions import HTTPException, NotFoundException, ValidationException
from litestar.status_codes import HTTP_409_CONFLICT


class ConflictException(HTTPException):
    """409: the request is valid but collides with existing data (duplicate, booking taken)."""

    status_code = HTTP_409_CONFLICT


def item(resource: str, **fields: Any) -> dict[str, Any]:
    """One entry of a 409's `extra.conflicts`: `resource` plus id, field, status, label or count."""
    return {"resource": resource, **{k: v for k, v in fields.items() if v is not None}}


def conflict(detail: str, reason: str, *conflicts: dict[str, Any]) -> ConflictException:
    """409 with `extra = {reason, conflicts}` (reasons: see `shared.errors.ConflictExtra`)."""
    return ConflictException(detail, extra={"reason": reason, "conflicts": list(conflicts)})


def invalid(detail: str, key: str | None, source: str | None = "body") -> ValidationException:
    """400 about one field: `extra = [{key, message, source}]`, as Litestar's own validation errors."""
    return ValidationException(detail, extra=[{"key": key, "message": detail, "source": source}])


def not_found(detail: str, resource: str, *ids: Any) -> NotFoundException:
    """404 with `extra = {resource, ids}`."""
    return NotFoundException(detail, extra={"resource": resource, "ids": [str(i) for i in ids]})
