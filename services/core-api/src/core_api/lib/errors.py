"""HTTP errors of the domain that Litestar does not define."""

from __future__ import annotations

from litestar.exceptions import HTTPException
from litestar.status_codes import HTTP_409_CONFLICT


class ConflictException(HTTPException):
    """409: the request is valid but collides with existing data (duplicate, booking taken)."""

    status_code = HTTP_409_CONFLICT
