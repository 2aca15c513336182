"""The Python ceiling of the read-path benchmark: a bare Litestar app answering
`GET /api/v1/placas` with a stored body (the same bytes core-api's cache sends), nothing else.

Run by `bench.cache_bench` as `uvicorn bench.bare_app:app --workers 2`; BARE_BODY_FILE names the body.
`python -m bench.bare_app --help` prints this and exits.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from litestar import Litestar, Response, get

BODY = Path(os.environ["BARE_BODY_FILE"]).read_bytes() if os.environ.get("BARE_BODY_FILE") else b"{}"


@get("/api/v1/placas", sync_to_thread=False)
def placas() -> Response[bytes]:
    return Response(BODY, media_type="application/json")


@get("/health", sync_to_thread=False)
def health() -> dict[str, str]:
    return {"status": "ok"}


app = Litestar([placas, health], openapi_config=None)

if __name__ == "__main__":
    print(__doc__)
    sys.exit(0 if "--help" in sys.argv[1:] else 2)
