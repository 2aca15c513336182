"""The body of the gateway's own error answers, in the API's error shape.

Traefik answers 413 (buffering middleware) and 429 (rateLimit middleware) itself, in plain text. Its
`errors` middleware (gateway-errors in gateway/dynamic/routes.yml) keeps the status and takes the body
and headers from this tiny server instead: GET /<status> answers
`{"statusCode": <status>, "detail": "...", "extra": ...}` as application/json (429 with Retry-After),
`extra` in the shape of its kind as the services answer it (`shared.errors`): 413 `{"maxBytes"}`,
429 `{"retryAfter"}`.

    python -m shared.gateway_errors [--host 127.0.0.1] [--port 4190]

Standard library only (no app, no database): it starts in milliseconds and cannot fail with them.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DETAILS = {
    413: "request body too large",
    429: "too many requests; slow down and retry after Retry-After seconds",
}
#: Retry-After of the gateway's 429 (Traefik drops its own when the errors middleware takes over):
#: the general limit refills every second
RETRY_AFTER_SECONDS = 1


#: `extra` of the statuses the gateway answers itself (kept equal to `shared.errors.normalize_extra`'s,
#: tested; not imported, so this server needs nothing but the standard library)
EXTRAS: dict[int, object] = {
    404: {"resource": None, "ids": []},
    413: {"maxBytes": None},
    429: {"retryAfter": RETRY_AFTER_SECONDS},
}


def error_body(status: int) -> bytes:
    detail = DETAILS.get(status) or HTTPStatus(status).phrase
    return json.dumps({"statusCode": status, "detail": detail, "extra": EXTRAS.get(status)}).encode()


class Handler(BaseHTTPRequestHandler):
    server_version = "gateway-errors"
    sys_version = ""

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        raw = self.path.split("?", 1)[0].strip("/")
        try:
            status = int(raw)
            HTTPStatus(status)
        except ValueError:
            status = 404
        if status < 400:
            status = 404
        body = error_body(status)
        # Traefik's errors middleware keeps the original status; no Server header (it would reach clients)
        self.send_response_only(200)
        self.send_header("Date", self.date_time_string())
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        if status == 429:
            self.send_header("Retry-After", str(RETRY_AFTER_SECONDS))
        self.end_headers()
        self.wfile.write(body)

    do_HEAD = do_GET  # noqa: N815

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass  # the gateway's access log has these requests


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m shared.gateway_errors", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=4190)
    args = parser.parse_args(argv)
    server = ThreadingHTTPServer((args.host, args.port), Handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        server.serve_forever()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
