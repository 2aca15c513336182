"""The async PDF path end to end, through the real gateway (SPEC §3 item 4).

core-api (uvicorn) publishes `pdf.requested`; the real pdf-service worker renders with WeasyPrint
and stores in GridFS on FerretDB; core-api consumes `pdf.generated`, records the document on the PI
and pushes an SSE event to the empresa's clients, all behind Traefik. The events travel on Redis
Streams (`stack`) and, in a second whole stack, on RabbitMQ (`rabbitmq_stack`, BROKER_URL=amqp://).
The job (`GET /api/v1/pdf-jobs/{id}`) is core-api's resource, built from the outcome events: it
answers with pdf-service stopped; the document download (`/api/v1/documents/{id}`) is pdf-service's.
"""

from __future__ import annotations

import io
import json
import queue
import threading
import time
import uuid
from typing import Any

import httpx
import pytest
from devstack.polling import wait_until_sync
from devstack.servers import free_port, start_service
from pypdf import PdfReader

PERIODO = {"inicio": "2032-05-01T00:00:00-03:00", "fim": "2032-06-01T00:00:00-03:00"}
CLIENTE = "Sorveteria Polo Norte Ltda"
SSE_WAIT_SECONDS = 90  # a render on a busy 2-core machine, not a latency bound


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


def new_pi(client: httpx.Client) -> dict[str, Any]:
    def post(path: str, body: dict) -> dict:
        r = client.post(path, json=body)
        assert r.status_code == 201, (path, r.text)
        return r.json()

    regiao = post("/api/v1/regioes", {"nome": "Orla"})
    placas = [
        post(
            "/api/v1/placas",
            {"numero": f"OR-{i}", "regiaoId": regiao["id"], "endereco": f"Av. Atlântica, {i * 10}"},
        )
        for i in (1, 2)
    ]
    cliente = post("/api/v1/clientes", {"nome": CLIENTE})
    return post(
        "/api/v1/pis",
        {
            "clienteId": cliente["id"],
            "placaIds": [p["id"] for p in placas],
            **PERIODO,
            "valorTotalCentavos": 250_000,
            "produto": "Picolé de manga",
        },
    )


class SseListener(threading.Thread):
    """Reads `GET /api/v1/events` through the gateway and queues each (event, data, received_at)."""

    def __init__(self, url: str, headers: dict[str, str]) -> None:
        super().__init__(daemon=True)
        self.url, self.headers = url, headers
        self.events: queue.Queue[tuple[str, dict[str, Any], float]] = queue.Queue()
        self.connected = threading.Event()
        self.status: int | None = None
        self.content_type = ""
        self._stopping = threading.Event()  # not `_stop`: that is a method of Thread (join calls it)
        self._response: httpx.Response | None = None

    def run(self) -> None:
        try:
            with (
                httpx.Client(timeout=httpx.Timeout(10, read=SSE_WAIT_SECONDS + 20)) as client,
                client.stream("GET", self.url, headers=self.headers) as r,
            ):
                self._response = r
                self.status, self.content_type = r.status_code, r.headers.get("content-type", "")
                event = ""
                for line in r.iter_lines():
                    if line.startswith(":"):
                        self.connected.set()  # the "connected" comment: subscribed
                    elif line.startswith("event: "):
                        event = line[7:]
                    elif line.startswith("data: "):
                        self.events.put((event, json.loads(line[6:]), time.monotonic()))
        except (httpx.HTTPError, RuntimeError):
            if not self._stopping.is_set():
                raise

    def next_for(self, job_id: str, timeout: float) -> tuple[str, dict[str, Any], float]:
        deadline = time.monotonic() + timeout
        while True:
            event = self.events.get(timeout=max(deadline - time.monotonic(), 0.01))
            if event[1].get("jobId") == job_id:
                return event

    def stop(self) -> None:
        self._stopping.set()
        if self._response is not None:
            self._response.close()
        self.join(5)


@pytest.mark.parametrize("stack_fixture", ["stack", "rabbitmq_stack"])
def test_pdf_job_through_the_gateway_ends_in_an_sse_event_and_a_downloadable_pdf(
    stack_fixture: str, request: pytest.FixtureRequest
) -> None:
    stack = request.getfixturevalue(stack_fixture)
    headers = register(stack.gateway, "Painéis Assíncronos")
    other = register(stack.gateway, "Outra Empresa")
    with httpx.Client(base_url=stack.gateway, headers=headers, timeout=10) as client:
        pi = new_pi(client)
        listener = SseListener(f"{stack.gateway}/api/v1/events", headers)
        intruder = SseListener(f"{stack.gateway}/api/v1/events", other)
        listener.start()
        intruder.start()
        assert listener.connected.wait(10), "the SSE stream did not open through the gateway"
        assert intruder.connected.wait(10)
        assert listener.status == 200 and listener.content_type.startswith("text/event-stream")

        sent = time.monotonic()
        r = client.post(f"/api/v1/pis/{pi['id']}/pdf-jobs", headers={"X-Request-ID": "flow-req-1"})
        assert r.status_code == 202, r.text
        job_id = r.json()["jobId"]
        assert r.headers["location"] == f"/api/v1/pdf-jobs/{job_id}"
        # the gateway's security headers and the request id on the 202 too
        assert r.headers["x-request-id"] == "flow-req-1"
        assert r.headers["x-content-type-options"] == "nosniff"

        try:
            event, data, received_at = listener.next_for(job_id, SSE_WAIT_SECONDS)
        except queue.Empty:
            logs = {name: srv.log_tail(60) for name, srv in {**stack.services, **stack.workers}.items()}
            raise AssertionError(f"no SSE event for {job_id} ({stack_fixture}); logs: {logs}") from None
        latency = received_at - sent
        print(f"\nPOST pdf-jobs → SSE pdf.generated through the gateway: {latency:.2f}s")
        assert event == "pdf.generated", data
        assert data["kind"] == "pi" and data["sourceId"] == pi["id"]
        assert data["correlationId"] == "flow-req-1"
        document_id = data["documentId"]
        listener.stop()

        # the job from core-api (its owner), the document from pdf-service, through the same gateway
        job = client.get(f"/api/v1/pdf-jobs/{job_id}")
        assert job.status_code == 200, job.text
        assert job.json()["status"] == "done" and job.json()["documentId"] == document_id
        assert job.json()["downloadUrl"] == f"/api/v1/documents/{document_id}"
        assert job.json()["attempts"] >= 1 and job.json()["generatedAt"]
        pdf = client.get(f"/api/v1/documents/{document_id}")
        assert pdf.status_code == 200
        assert pdf.headers["content-type"].startswith("application/pdf")
        assert pdf.content.startswith(b"%PDF-")
        text = " ".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(pdf.content)).pages)
        assert CLIENTE in " ".join(text.split())

        # core-api recorded it on the PI
        docs = client.get(f"/api/v1/pis/{pi['id']}").json()["documentos"]
        assert [(d["documentId"], d["jobId"]) for d in docs] == [(document_id, job_id)]
        jobs = client.get(f"/api/v1/pis/{pi['id']}/pdf-jobs").json()
        assert [(j["jobId"], j["status"], j["documentId"]) for j in jobs] == [(job_id, "done", document_id)]

    # the other empresa's stream never saw it, and it cannot read the job or the document
    time.sleep(0.5)
    intruder.stop()
    assert all(e[1].get("jobId") != job_id for e in list(intruder.events.queue))
    with httpx.Client(base_url=stack.gateway, headers=other, timeout=10) as client:
        assert client.get(f"/api/v1/pdf-jobs/{job_id}").status_code == 404
        assert client.get(f"/api/v1/documents/{document_id}").status_code == 404
        assert client.post(f"/api/v1/pis/{pi['id']}/pdf-jobs").status_code == 404


def test_a_finished_job_still_answers_through_the_gateway_with_pdf_service_stopped(
    stack, gateway_factory, test_tmp
) -> None:
    headers = register(stack.gateway, "Painéis Sem Serviço de PDF")
    with httpx.Client(base_url=stack.gateway, headers=headers, timeout=10) as client:
        pi = new_pi(client)
        r = client.post(f"/api/v1/pis/{pi['id']}/pdf-jobs")
        assert r.status_code == 202, r.text
        job_id = r.json()["jobId"]

        def finished() -> dict[str, Any] | None:
            body = client.get(f"/api/v1/pdf-jobs/{job_id}").json()
            return body if body["status"] != "pending" else None

        done = wait_until_sync(finished, timeout=120, what="the PDF job finished")
        assert done["status"] == "done", done
    # a gateway of its own in front of the stack's core-api and a pdf-service of its own, then stopped
    port = free_port()
    env = {**stack.env, "PDF_SERVICE_PORT": str(port)}
    own_pdf = start_service("pdf-service", "pdf_service", port, env, test_tmp / f"pdf-jobs-down-{port}")
    try:
        gw = gateway_factory(stack.env["CORE_API_URL"], own_pdf.extra["url"])
        with httpx.Client(base_url=gw.url, headers=headers, timeout=30) as client:
            assert client.get(done["downloadUrl"]).status_code == 200  # pdf-service up: the document
            own_pdf.stop()
            # pdf-service is down: its own route fails at the gateway ...
            assert client.get(done["downloadUrl"]).status_code in (502, 503, 504)
            assert client.get("/api/v1/pdf-service/health").status_code in (502, 503, 504)
            # ... and the job, core-api's resource, answers as before
            job = client.get(f"/api/v1/pdf-jobs/{job_id}")
            assert job.status_code == 200, job.text
            assert job.json() == done
            assert job.headers["x-content-type-options"] == "nosniff"  # through the gateway's chain
            # still tenant-scoped
            other = register(stack.gateway, "Outra Sem PDF")
            assert client.get(f"/api/v1/pdf-jobs/{job_id}", headers=other).status_code == 404
    finally:
        own_pdf.stop()
