"""Schemathesis hooks for the fuzzing contract (loaded by `st run` through SCHEMATHESIS_HOOKS).

- `FuzzAdmin`: the bearer token of a fuzzing admin, logged in through core-api. The fuzzer is free
  to deactivate, demote or delete that very user (it is an admin managing users); a 401 makes
  schemathesis ask for a new token, and when the old identity is gone a new empresa is registered.
- `after_call`: every (operation, status) seen is appended to FUZZ_STATUS_LOG for the report.
"""

from __future__ import annotations

import json
import os
import threading
import uuid

import httpx
import schemathesis

_lock = threading.Lock()
_CORE = os.environ.get("FUZZ_CORE_API_URL", "")
_PASSWORD = "fuzzing-pass-" + uuid.uuid4().hex[:12]


@schemathesis.auth(refresh_interval=600, retry_on=[401])
class FuzzAdmin:
    email = os.environ.get("FUZZ_EMAIL", "")
    password = os.environ.get("FUZZ_PASSWORD", "")

    def get(self, case, context):
        with httpx.Client(base_url=_CORE, timeout=30) as client:
            if self.email:
                r = client.post("/api/v1/auth/login", json={"email": self.email, "password": self.password})
                if r.status_code == 200:
                    return r.json()["accessToken"]
            # the previous identity was deleted, deactivated or changed by the fuzzer: start afresh
            email = f"fuzz-{uuid.uuid4().hex[:12]}@example.com"
            r = client.post(
                "/api/v1/auth/register",
                json={
                    "empresa": {"nome": "Fuzzing"},
                    "admin": {"nome": "Fuzzing Admin", "email": email, "password": _PASSWORD},
                },
            )
            r.raise_for_status()
            type(self).email, type(self).password = email, _PASSWORD
            r = client.post("/api/v1/auth/login", json={"email": email, "password": _PASSWORD})
            r.raise_for_status()
            return r.json()["accessToken"]

    def set(self, case, data, context):
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


@schemathesis.hook
def after_call(context, case, response):
    path = os.environ.get("FUZZ_STATUS_LOG")
    if not path:
        return
    line = json.dumps({"operation": case.operation.label, "status": response.status_code})
    with _lock, open(path, "a") as f:
        f.write(line + "\n")
