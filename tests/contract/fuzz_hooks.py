"""Schemathesis hooks for the fuzzing contract (loaded by `st run` through SCHEMATHESIS_HOOKS).

- `FuzzAdmin`: the bearer token of a fuzzing admin, logged in through core-api. The fuzzer is free
  to deactivate, demote or delete that very user (it is an admin managing users); a 401 makes
  schemathesis ask for a new token, and when the old identity is gone a new empresa is registered.
- `map_case`: random ids almost never name anything, so most calls would stop at a 404 before the
  domain logic. The fuzzing admin's empresa gets a small real inventory (a região, placas, a
  cliente, a PI and its contrato; made by the test before the run, `seed_inventory`) and half of the generated cases (chosen from the case itself,
  so runs stay reproducible) carry those ids in the id fields of their path, query and body.
- `after_call`: every (operation, status) seen is appended to FUZZ_STATUS_LOG for the report.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import uuid
from typing import Any

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


def seed_inventory(core_api: str, email: str, password: str) -> dict[str, list[str]]:
    """A região, three placas, a cliente, a PI booking two placas and its contrato.

    Called by the test before `st run` starts (never from inside a hook: by then the fuzzer may
    already have deactivated or deleted the admin, and an exception in a hook is a runtime error
    of the whole run); the ids reach the hooks through FUZZ_INVENTORY.
    """
    with httpx.Client(base_url=core_api, timeout=60) as client:
        r = client.post("/api/v1/auth/login", json={"email": email, "password": password})
        r.raise_for_status()
        client.headers["Authorization"] = f"Bearer {r.json()['accessToken']}"

        def create(path: str, body: dict[str, Any]) -> str:
            r = client.post(path, json=body)
            r.raise_for_status()
            return r.json()["id"]

        regiao = create("/api/v1/regioes", {"nome": "Fuzz Região"})
        placas = [
            create(
                "/api/v1/placas",
                {"numero": f"FZ-{i}", "regiaoId": regiao, "endereco": f"Rua do Fuzz, {i}", "uf": "SP"},
            )
            for i in range(3)
        ]
        cliente = create("/api/v1/clientes", {"nome": "Cliente Fuzz", "documento": "11.222.333/0001-81"})
        pi = create(
            "/api/v1/pis",
            {
                "clienteId": cliente,
                "placaIds": placas[:2],
                "inicio": "2031-01-01T00:00:00-03:00",
                "fim": "2031-01-15T00:00:00-03:00",
                "valorTotalCentavos": 500000,
                "produto": "Campanha de fuzzing",
            },
        )
        contrato = create("/api/v1/contratos", {"piId": pi})
    return {"regiao": [regiao], "placa": placas, "cliente": [cliente], "pi": [pi], "contrato": [contrato]}


def _inventory() -> dict[str, list[str]]:
    return json.loads(os.environ.get("FUZZ_INVENTORY") or "{}")


def _real_id(kind: str, salt: str) -> str | None:
    ids = _inventory().get(kind)
    if not ids:
        return None
    return ids[int(hashlib.sha256(salt.encode()).hexdigest(), 16) % len(ids)]


#: id fields of the API and the kind of resource they name
_ID_FIELDS = {
    "regiaoId": "regiao",
    "regiao_id": "regiao",
    "placaId": "placa",
    "placa_id": "placa",
    "clienteId": "cliente",
    "cliente_id": "cliente",
    "piId": "pi",
    "pi_id": "pi",
    "contrato_id": "contrato",
}


def _is_negative(case) -> bool:
    meta = case.meta
    if meta is None:
        return False
    return meta.generation.mode.is_negative or any(c.mode.is_negative for c in meta.components.values())


@schemathesis.hook
def map_case(context, case):
    if _is_negative(case):
        return case  # a case meant to be invalid stays invalid
    if case.meta is not None and (case.meta.phase.name == "stateful" or case.meta.pool_draws):
        return case  # ids taken from earlier responses (links, captured resources) stay as they are
    salt = f"{case.operation.label}|{case.path_parameters}|{case.query}|{case.body!r}"
    if int(hashlib.sha256(salt.encode()).hexdigest(), 16) % 2:
        return case  # half the cases stay as generated
    for container in (case.path_parameters, case.query):
        for name in list(container or {}):
            if name in _ID_FIELDS and (real := _real_id(_ID_FIELDS[name], salt + name)):
                container[name] = real
    if isinstance(case.body, dict):
        for name in list(case.body):
            if name in _ID_FIELDS and (real := _real_id(_ID_FIELDS[name], salt + name)):
                case.body[name] = real
        if isinstance(case.body.get("placaIds"), list) and (real := _real_id("placa", salt)):
            case.body["placaIds"] = [real]
    return case


@schemathesis.hook
def after_call(context, case, response):
    path = os.environ.get("FUZZ_STATUS_LOG")
    if not path:
        return
    line = json.dumps({"operation": case.operation.label, "status": response.status_code})
    with _lock, open(path, "a") as f:
        f.write(line + "\n")
