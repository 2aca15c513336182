"""The strangler fig end to end on real documents: both PDF paths behind a real Traefik, real
WeasyPrint, data created through the gateway's public API.

- the same contract on both paths (status, Content-Type, Content-Disposition, extracted text) for
  PIs, contratos, another empresa's ids, malformed ids and missing tokens;
- at 0 % every PDF is served by core-api, at 100 % by pdf-service (Traefik's access log says which);
- pdf-service stopped at 100 %: every PDF request still succeeds through the failover;
- `make parity` against the two services: zero mismatches;
- the retirement rehearsal: core-api with LEGACY_PDF_ENABLED=false (no legacy routes) and the
  rollout at 100 % still serve every PDF through the gateway.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass

import httpx
import pytest
from devstack.parity import run as parity_run
from devstack.servers import ROOT, free_port, start_service
from pypdf import PdfReader

CORE = "core-api-pdf@file"
PDF = "pdf-service-pdf@file"
CONTRACT_HEADERS = ("content-type", "content-disposition")
PERIODO = {"inicio": "2031-05-01T00:00:00-03:00", "fim": "2031-06-01T00:00:00-03:00"}
FAST_HEALTH = {
    "GATEWAY_HEALTHCHECK_INTERVAL": "300ms",
    "GATEWAY_HEALTHCHECK_TIMEOUT": "250ms",
    "GATEWAY_RATE_AVERAGE": "100000",
    "GATEWAY_RATE_BURST": "100000",
}


@dataclass
class Documents:
    """One empresa's PIs and contrato (created through the gateway) and a second empresa's token."""

    headers: dict[str, str]
    other_headers: dict[str, str]
    pis: list[str]
    contratos: list[str]

    def cases(self) -> list[tuple[str, str, dict[str, str]]]:
        """(name, path, headers) of every answer the contract fixes."""
        pi, contrato = self.pis[0], self.contratos[0]
        return [
            *[(f"pi {i}", f"/api/v1/pis/{i}/pdf", self.headers) for i in self.pis],
            *[(f"contrato {c}", f"/api/v1/contratos/{c}/pdf", self.headers) for c in self.contratos],
            ("other empresa's pi", f"/api/v1/pis/{pi}/pdf", self.other_headers),
            ("other empresa's contrato", f"/api/v1/contratos/{contrato}/pdf", self.other_headers),
            ("malformed id", "/api/v1/pis/not-an-id/pdf", self.headers),
            ("unknown id", "/api/v1/contratos/65a000000000000000000001/pdf", self.headers),
            ("no token", f"/api/v1/pis/{pi}/pdf", {}),
            ("bad token", f"/api/v1/contratos/{contrato}/pdf", {"Authorization": "Bearer nope"}),
        ]


def register(gateway: str, nome: str) -> dict[str, str]:
    email = f"admin-{uuid.uuid4().hex[:8]}@example.com"
    body = {"empresa": {"nome": nome}, "admin": {"nome": "Admin", "email": email, "password": "s3nha-segura"}}
    r = httpx.post(f"{gateway}/api/v1/auth/register", json=body, timeout=10)
    assert r.status_code == 202, r.text
    r = httpx.post(
        f"{gateway}/api/v1/auth/login", json={"email": email, "password": "s3nha-segura"}, timeout=10
    )
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['accessToken']}"}


@pytest.fixture(scope="module")
def documents(stack) -> Documents:
    headers = register(stack.gateway, "Painéis Estrangulados")
    with httpx.Client(base_url=stack.gateway, headers=headers, timeout=10) as c:

        def post(path: str, body: dict) -> dict:
            r = c.post(path, json=body)
            assert r.status_code == 201, (path, r.text)
            return r.json()

        regiao = post("/api/v1/regioes", {"nome": "Boa Viagem"})
        placas = [
            post(
                "/api/v1/placas",
                {
                    "numero": f"BV-{i:02d}",
                    "regiaoId": regiao["id"],
                    "endereco": f"Av. Boa Viagem, {i * 100} — em frente ao posto",
                    "cidade": "Recife",
                    "uf": "PE",
                    "larguraCm": 900,
                    "alturaCm": 300,
                },
            )
            for i in range(1, 5)
        ]
        cliente = post("/api/v1/clientes", {"nome": "Padaria São João Ltda", "responsavel": "Maria Souza"})
        pis = [
            post(
                "/api/v1/pis",
                {
                    "clienteId": cliente["id"],
                    "placaIds": [p["id"] for p in placas[i * 2 : i * 2 + 2]],
                    **PERIODO,
                    "valorTotalCentavos": 123_456 * (i + 1),
                    "produto": f"Pão de queijo, campanha {i + 1}",
                    "descricao": "Lançamento <b>sem</b> HTML: o texto sai como digitado.",
                },
            )["id"]
            for i in range(2)
        ]
        contratos = [post("/api/v1/contratos", {"piId": pis[0]})["id"]]
    return Documents(headers, register(stack.gateway, "Concorrente"), pis, contratos)


def pdf_text(body: bytes) -> str:
    return " ".join(" ".join((p.extract_text() or "") for p in PdfReader(io.BytesIO(body)).pages).split())


def rollout(gw, percent: int) -> None:
    """The real `make rollout PDF=<percent>` against this gateway's watched directory."""
    result = subprocess.run(
        [sys.executable, "-m", "devstack.rollout", "--dir", str(gw.dynamic_dir), "--api", gw.internal]
        + ["--pdf", str(percent)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT / "scripts")},
        timeout=60,
        check=False,
    )
    assert result.returncode == 0 and "serving it" in result.stdout, result.stdout + result.stderr


def fetch_all(gw, cases) -> dict[str, tuple[int, dict[str, str], str, str]]:
    """GET every case through the gateway: name → (status, contract headers, text, ServiceName)."""
    run = uuid.uuid4().hex[:8]
    answers = {}
    with httpx.Client(base_url=gw.url, timeout=60) as client:
        for i, (name, path, headers) in enumerate(cases):
            r = client.get(path, headers={**headers, "X-Request-ID": f"{run}-{i}"})
            text = pdf_text(r.content) if r.status_code == 200 else ""
            answers[name] = (
                r.status_code,
                {h: r.headers.get(h, "") for h in CONTRACT_HEADERS},
                text,
                f"{run}-{i}",
            )
    served = {
        e["request_X-Request-Id"]: e.get("ServiceName")
        for e in gw.access_entries({a[3] for a in answers.values()})
    }
    return {name: (s, h, t, served.get(rid, "-")) for name, (s, h, t, rid) in answers.items()}


def test_both_paths_answer_the_same_contract_and_switch_with_the_rollout(stack, gateway_factory, documents):
    gw = gateway_factory(stack.env["CORE_API_URL"], stack.env["PDF_SERVICE_URL"], **FAST_HEALTH)
    cases = documents.cases()
    legacy = fetch_all(gw, cases)
    assert {a[3] for a in legacy.values()} == {CORE}, legacy  # 0 %: all core-api
    rollout(gw, 100)
    new = fetch_all(gw, cases)
    assert {a[3] for a in new.values()} == {PDF}, new  # 100 %: all pdf-service
    for name, *_ in cases:
        (ls, lh, lt, _), (ns, nh, nt, _) = legacy[name], new[name]
        assert ls == ns, (name, ls, ns)
        assert lh == nh, (name, lh, nh)
        assert lt == nt, name
    statuses = {name: a[0] for name, a in new.items()}
    print(f"statuses on both paths: {statuses}")
    for i in documents.pis:
        status, headers, text, _ = new[f"pi {i}"]
        assert status == 200 and headers["content-type"] == "application/pdf"
        assert headers["content-disposition"].startswith('attachment; filename="pi-')
        assert (
            "Padaria São João Ltda" in text
            and "BV-0" in text
            and "01/05/2031" in text
            and "31/05/2031" in text
        )
    assert "<b>sem</b>" in new[f"pi {documents.pis[0]}"][2]  # escaped, printed as typed
    assert new[f"contrato {documents.contratos[0]}"][1]["content-disposition"].startswith(
        'attachment; filename="contrato-ct-'
    )
    assert statuses["other empresa's pi"] == statuses["other empresa's contrato"] == 404
    assert statuses["malformed id"] == statuses["unknown id"] == 404
    assert statuses["no token"] == statuses["bad token"] == 401


def test_pdf_service_stopped_at_hundred_percent_still_serves_every_pdf(
    stack, gateway_factory, documents, test_tmp
):
    port = free_port()
    env = {**stack.env, "PDF_SERVICE_PORT": str(port)}
    own_pdf = start_service("pdf-service", "pdf_service", port, env, test_tmp / f"strangler-failover-{port}")
    try:
        gw = gateway_factory(stack.env["CORE_API_URL"], own_pdf.extra["url"], **FAST_HEALTH)
        rollout(gw, 100)
        pi_case = [("pi", f"/api/v1/pis/{documents.pis[0]}/pdf", documents.headers)]
        assert fetch_all(gw, pi_case)["pi"][3] == PDF
        own_pdf.stop()
        stopped = time.monotonic()
        results = []
        while time.monotonic() - stopped < 3:
            answer = fetch_all(gw, pi_case)["pi"]
            results.append((answer[0], answer[3]))
        print(
            f"after stopping pdf-service: {len(results)} requests, statuses {sorted({s for s, _ in results})}"
        )
        assert results and all(status == 200 for status, _ in results), results
        assert results[-1][1] == CORE
    finally:
        own_pdf.stop()


def test_parity_checker_finds_no_mismatch(stack, documents):
    out = io.StringIO()
    token = documents.headers["Authorization"].removeprefix("Bearer ")
    code = parity_run(stack.env["CORE_API_URL"], stack.env["PDF_SERVICE_URL"], token, 20, [], out=out)
    report = out.getvalue()
    print(report)
    assert code == 0, report
    assert (
        f"parity: {len(documents.pis) + len(documents.contratos)} documents compared, 0 mismatches" in report
    )


def test_internal_snapshot_endpoint_is_not_public(stack, documents):
    path = f"/api/v1/internal/pis/{documents.pis[0]}/snapshot"
    internal_headers = {**documents.headers, "X-Internal-Token": "dev-internal-token"}
    r = httpx.get(stack.gateway + path, headers=internal_headers)
    assert r.status_code == 404
    assert r.headers["x-content-type-options"] == "nosniff"
    # core-api's public listener does not have the internal routes at all, even with both tokens
    r = httpx.get(stack.env["CORE_API_URL"] + path, headers=internal_headers)
    assert r.status_code == 404
    # on core-api's internal listener it works (that is how pdf-service calls it)
    r = httpx.get(stack.env["CORE_API_INTERNAL_URL"] + path, headers=internal_headers)
    assert r.status_code == 200 and r.json()["sourceId"] == documents.pis[0]
    # ... and that listener serves nothing public
    assert (
        httpx.get(
            stack.env["CORE_API_INTERNAL_URL"] + "/api/v1/placas", headers=documents.headers
        ).status_code
        == 404
    )


#: what a black-box sweep sent to reach /api/v1/internal through the public entry point (issue 10)
ENCODED_INTERNAL_PATHS = [
    "/api/v1%2Finternal/pis/{id}/snapshot",
    "/api/v1%2finternal/pis/{id}/snapshot",
    "/api/v1%2F%2Finternal/pis/{id}/snapshot",
    "/api/v1%5Cinternal/pis/{id}/snapshot",
    "/api/v1%5cinternal/pis/{id}/snapshot",
    FULLY_ENCODED := "/api%2Fv1%2Finternal%2Fpis%2F{id}%2Fsnapshot",
    "/%61pi/v1%2Finternal/pis/{id}/snapshot",
    "/api/v1%252Finternal/pis/{id}/snapshot",
    "/api/v1/internal%2Fpis/{id}/snapshot",
    "/api/v1/pis%2F..%2Finternal/pis/{id}/snapshot",
    "/api/v1/internal/pis/{id}%3B/snapshot",
    "/api/v1/internal/pis/{id}%00/snapshot",
]


@pytest.mark.parametrize("template", ENCODED_INTERNAL_PATHS)
def test_encoded_paths_to_internal_routes_are_refused_by_the_gateway(stack, documents, template):
    """Ambiguous encoded characters never reach a backend: Traefik's entry point answers 400."""
    path = template.format(id=documents.pis[0])
    headers = {**documents.headers, "X-Internal-Token": "dev-internal-token"}
    # httpx would normalise the path; send it byte for byte
    with httpx.Client(base_url=stack.gateway) as client:
        request = client.build_request("GET", "/", headers=headers)
        request.url = request.url.copy_with(raw_path=path.encode())
        r = client.send(request)
    if template == FULLY_ENCODED:  # no router matches an encoded prefix: Traefik's own 404, no backend
        assert r.status_code == 404 and r.text.strip() == "404 page not found", (path, r.status_code)
    else:
        assert r.status_code == 400, (path, r.status_code, r.text[:200])
    assert "sourceId" not in r.text


def test_normalised_paths_to_internal_routes_are_not_found(stack, documents):
    """Encodings of unreserved characters and dot segments are normalised by Traefik, then matched: 404."""
    headers = {**documents.headers, "X-Internal-Token": "dev-internal-token"}
    for path in (
        f"/api/v1/%69nternal/pis/{documents.pis[0]}/snapshot",
        f"/api/v1/pis/../internal/pis/{documents.pis[0]}/snapshot",
        f"/api/v1//internal/pis/{documents.pis[0]}/snapshot",
    ):
        with httpx.Client(base_url=stack.gateway) as client:
            request = client.build_request("GET", "/", headers=headers)
            request.url = request.url.copy_with(raw_path=path.encode())
            r = client.send(request)
        assert r.status_code in (400, 404), (path, r.status_code)
        assert "sourceId" not in r.text


def test_retirement_rehearsal_without_the_legacy_renderer(stack, gateway_factory, documents, test_tmp):
    """Phase 6 rehearsed: core-api without its legacy PDF routes, the split at 100 %."""
    core_port, pdf_port = free_port(), free_port()
    core_env = {**stack.env, "CORE_API_PORT": str(core_port), "LEGACY_PDF_ENABLED": "false"}
    core = start_service("core-api", "core_api", core_port, core_env, test_tmp / f"retired-core-{core_port}")
    pdf = None
    try:
        pdf_env = {
            **stack.env,
            "PDF_SERVICE_PORT": str(pdf_port),
            "CORE_API_URL": core.extra["url"],
            "CORE_API_INTERNAL_URL": core.extra["internal_url"],
        }
        pdf = start_service(
            "pdf-service", "pdf_service", pdf_port, pdf_env, test_tmp / f"retired-pdf-{pdf_port}"
        )
        # the legacy routes are gone from core-api
        r = httpx.get(f"{core.extra['url']}/api/v1/pis/{documents.pis[0]}/pdf", headers=documents.headers)
        assert r.status_code == 404
        gw = gateway_factory(core.extra["url"], pdf.extra["url"], **FAST_HEALTH)
        rollout(gw, 100)
        answers = fetch_all(gw, documents.cases())
        assert {a[3] for a in answers.values()} == {PDF}, answers
        for i in [*documents.pis, *documents.contratos]:
            name = f"pi {i}" if i in documents.pis else f"contrato {i}"
            assert answers[name][0] == 200 and answers[name][1]["content-type"] == "application/pdf", name
        assert answers["other empresa's pi"][0] == 404 and answers["no token"][0] == 401
    finally:
        if pdf:
            pdf.stop()
        core.stop()
