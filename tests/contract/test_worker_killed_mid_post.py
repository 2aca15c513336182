"""A core-api worker SIGKILLed while handling a POST that carries an Idempotency-Key (issue 12).

Real processes: FerretDB, Redis, `core-api serve` with two workers, the real Traefik with the
generated routes. FerretDB is paused (SIGSTOP) so the POST is held inside a worker; that worker is
killed; FerretDB resumes. The gateway replays the POST (it carries a key) on a live worker, and
core-api runs the key once: the client gets one 201 and one cliente exists. Without the replay the
client would get a 502 for a request that may have been saved.
"""

from __future__ import annotations

import os
import signal
import threading
import uuid
from pathlib import Path

import httpx
from devstack.polling import wait_until_sync
from devstack.servers import free_port, start_ferretdb, start_service, worker_pids
from prometheus_client.mmap_dict import MmapedDict

PASSWORD = "Reboque-Azul-Ventania-42"


def handling(metrics_dir: Path, method: str, path: str) -> list[int]:
    """The worker pids with a request `method path` in progress (their own multiprocess files)."""
    pids = []
    for f in metrics_dir.glob("gauge_livesum_*.db"):
        for key, value, *_ in MmapedDict.read_all_values_from_file(str(f)):
            if "requests_in_progress" in key and f'"{method}"' in key and f'"{path}"' in key and value > 0:
                pids.append(int(f.stem.rsplit("_", 1)[1]))
    return pids


def test_a_post_with_a_key_whose_worker_is_killed_gets_one_answer_and_one_record(
    redis_url: str, workdir: Path, gateway_factory
) -> None:  # noqa: ANN001
    ferretdb = start_ferretdb(workdir / "ferretdb")
    port, metrics_dir = free_port(), workdir / "core-api-metrics"
    env = {
        "ENVIRONMENT": "test",
        "MONGODB_URL": ferretdb.url,
        "REDIS_URL": redis_url,
        "CORE_API_MONGODB_DB": "t_killed_post",
        "LOG_JSON": "false",
        "CORE_API_PORT": str(port),
        "CORE_API_WORKERS": "2",
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
    }
    core = start_service("core-api", "core_api", port, env, workdir / "core-api")
    stopped = False
    try:
        wait_until_sync(lambda: len(worker_pids(core.proc.pid)) == 2, timeout=180, what="two workers")
        wait_until_sync(
            lambda: httpx.get(f"{core.url}/api/v1/health/ready", timeout=5).status_code == 200, timeout=180
        )
        # forked from `serve`, which built the app once (shared.metrics_process.forked_workers), not
        # spawned: a spawned worker re-imports the whole app, the bulk of a restart's time
        parent_cmdline = Path(f"/proc/{core.proc.pid}/cmdline").read_bytes()
        for pid in worker_pids(core.proc.pid):
            assert Path(f"/proc/{pid}/cmdline").read_bytes() == parent_cmdline
        gw = gateway_factory(
            core_api_url=core.url,
            pdf_service_url=f"http://127.0.0.1:{free_port()}",
            GATEWAY_RATE_AVERAGE="100000",
            GATEWAY_RATE_BURST="100000",
        )
        email = f"admin-{uuid.uuid4().hex[:10]}@example.com"
        registered = httpx.post(
            f"{gw.url}/api/v1/auth/register",
            json={
                "empresa": {"nome": "Replay Ltda"},
                "admin": {"nome": "A", "email": email, "password": PASSWORD},
            },
            timeout=120,
        )
        assert registered.status_code == 202, registered.text
        login = httpx.post(
            f"{gw.url}/api/v1/auth/login", json={"email": email, "password": PASSWORD}, timeout=120
        )
        assert login.status_code == 200, login.text
        headers = {
            "Authorization": f"Bearer {login.json()['accessToken']}",
            "Idempotency-Key": str(uuid.uuid4()),
        }

        os.kill(ferretdb.proc.pid, signal.SIGSTOP)  # the POST will wait inside a worker
        stopped = True
        answer: list[httpx.Response | Exception] = []

        def post() -> None:
            try:
                answer.append(
                    httpx.post(
                        f"{gw.url}/api/v1/clientes", json={"nome": "Só Uma"}, headers=headers, timeout=180
                    )
                )
            except httpx.HTTPError as exc:
                answer.append(exc)

        client = threading.Thread(target=post)
        client.start()
        victims = wait_until_sync(
            lambda: handling(metrics_dir, "POST", "/api/v1/clientes"),
            timeout=120,
            what="the POST in a worker",
        )
        assert len(victims) == 1
        os.kill(victims[0], signal.SIGKILL)
        wait_until_sync(
            lambda: victims[0] not in worker_pids(core.proc.pid), timeout=60, what="the worker gone"
        )
        os.kill(ferretdb.proc.pid, signal.SIGCONT)
        stopped = False
        client.join(200)

        assert len(answer) == 1 and isinstance(answer[0], httpx.Response), answer
        assert answer[0].status_code == 201, answer[0].text
        listed = httpx.get(f"{gw.url}/api/v1/clientes", headers=headers, params={"q": "Só Uma"}, timeout=60)
        assert listed.status_code == 200 and listed.json()["total"] == 1, listed.text
        assert listed.json()["items"][0]["id"] == answer[0].json()["id"]
        # serve replaced the killed worker
        wait_until_sync(lambda: len(worker_pids(core.proc.pid)) == 2, timeout=180, what="the worker replaced")
    finally:
        if stopped:
            os.kill(ferretdb.proc.pid, signal.SIGCONT)
        core.stop()
        ferretdb.stop()
