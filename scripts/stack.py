"""`make up`: run the whole stack in the foreground under honcho (a real process supervisor).

Preflight checks give one-line messages (a second `make up`, a port in use, a missing tool); then
honcho runs Redis, FerretDB, core-api, pdf-service (API and worker) and Traefik. Once the gateway
answers ready, demo data is loaded if the database is empty and the URLs are printed. Ctrl-C reaches
honcho, which stops every process; this script then checks that no port is left listening.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from devstack.gateway import render_gateway
from devstack.prometheus import PROMETHEUS_BIN, prometheus_args, render_prometheus
from devstack.servers import FERRETDB_BIN, ROOT, port_open, traefik_bin
from shared.settings import DEV_METRICS_PASSWORD

DATA = Path(os.environ.get("STACK_DATA_DIR", ROOT / ".data"))
VENV_BIN = ROOT / ".venv" / "bin"


def env_port(name: str, default: int) -> int:
    raw = os.environ.get(name, str(default))
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        die(f"{name}={raw!r} is not a port number (1-65535)")
    return int(raw)


def die(msg: str) -> None:
    print(f"make up: {msg}", file=sys.stderr)
    sys.exit(2)


def step(msg: str) -> None:
    print(f"==> {msg}", flush=True)


def http_ok(url: str, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:  # noqa: S310 - loopback only
            return r.status == 200
    except Exception:  # noqa: BLE001
        return False


def main() -> None:
    port_vars = {
        "gateway": ("GATEWAY_PORT", 8080),
        "gateway-internal": ("GATEWAY_INTERNAL_PORT", 8082),
        "core-api": ("CORE_API_PORT", 4000),
        "pdf-service": ("PDF_SERVICE_PORT", 4100),
        "pdf-worker-metrics": ("PDF_WORKER_METRICS_PORT", 4101),
        "gateway-errors": ("GATEWAY_ERRORS_PORT", 4190),
        "redis": ("REDIS_PORT", 6379),
        "prometheus": ("PROMETHEUS_PORT", 9090),
    }
    external_mongo = os.environ.get("MONGODB_URL")
    if not external_mongo:
        port_vars["mongodb"] = ("MONGODB_PORT", 27017)
    ports = {name: env_port(var, default) for name, (var, default) in port_vars.items()}

    DATA.mkdir(parents=True, exist_ok=True)
    lock = open(DATA / "stack.lock", "a+")  # noqa: SIM115 - held for the life of the stack
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.seek(0)
        die(
            f"the stack is already running (pid {lock.read().strip() or '?'}); stop it with Ctrl-C in its terminal"
        )
    lock.seek(0)
    lock.truncate()
    lock.write(str(os.getpid()))
    lock.flush()

    if not Path(PROMETHEUS_BIN).exists():
        die("prometheus is missing: run `make deps` (installs Debian's prometheus package)")
    if not shutil.which("redis-server"):
        die("redis-server is missing: run `make deps` (installs Debian's packages)")
    if not external_mongo and not FERRETDB_BIN.exists():
        die("FerretDB is not built: run `make deps`, or set MONGODB_URL to a running MongoDB")
    try:
        traefik = traefik_bin()
    except RuntimeError as exc:
        die(str(exc))
    for name, port in ports.items():
        if port_open(port):
            die(
                f"port {port} ({name}) is already in use; stop what holds it (`ss -ltnp 'sport = :{port}'`) "
                f"or set {port_vars[name][0]}"
            )

    mongo_url = external_mongo or f"mongodb://127.0.0.1:{ports['mongodb']}/"
    env = {
        **os.environ,
        "ENVIRONMENT": os.environ.get("ENVIRONMENT", "development"),
        "MONGODB_URL": mongo_url,
        "REDIS_URL": f"redis://127.0.0.1:{ports['redis']}/0",
        "CORE_API_PORT": str(ports["core-api"]),
        "PDF_SERVICE_PORT": str(ports["pdf-service"]),
        "CORE_API_URL": f"http://127.0.0.1:{ports['core-api']}",
        "PDF_SERVICE_URL": f"http://127.0.0.1:{ports['pdf-service']}",
        "PDF_WORKER_METRICS_PORT": str(ports["pdf-worker-metrics"]),
        "GATEWAY_ERRORS_URL": f"http://127.0.0.1:{ports['gateway-errors']}",
        "PYTHONUNBUFFERED": "1",
    }
    static = render_gateway(
        DATA / "gateway", web_port=ports["gateway"], internal_port=ports["gateway-internal"]
    )
    for sub in ("redis", "ferretdb/sqlite", "logs"):
        (DATA / sub).mkdir(parents=True, exist_ok=True)

    # Prometheus scrapes both services (Basic Auth) and Traefik, with deploy/observability's rules
    prom_config = render_prometheus(
        DATA / "prometheus",
        targets={
            "core-api": f"127.0.0.1:{ports['core-api']}",
            "pdf-service": f"127.0.0.1:{ports['pdf-service']}",
            "pdf-worker": f"127.0.0.1:{ports['pdf-worker-metrics']}",
            "traefik": f"127.0.0.1:{ports['gateway-internal']}",
            "prometheus": f"127.0.0.1:{ports['prometheus']}",
        },
        metrics_password=os.environ.get("METRICS_PASSWORD", DEV_METRICS_PASSWORD),
    )
    procs = {
        "redis": f"redis-server --port {ports['redis']} --bind 127.0.0.1 --dir {DATA / 'redis'} "
        "--appendonly yes --appendfsync everysec --save ''",
        "core-api": f"{VENV_BIN / 'python'} -m core_api serve",
        "pdf-api": f"{VENV_BIN / 'python'} -m pdf_service serve",
        "pdf-worker": f"{VENV_BIN / 'python'} -m pdf_service worker",
        "gateway": f"{traefik} --configFile={static}",
        # the body of the gateway's own 413/429 (the API's error shape)
        "gateway-errors": f"{VENV_BIN / 'python'} -m shared.gateway_errors --port {ports['gateway-errors']}",
        "prometheus": " ".join(
            prometheus_args(prom_config, DATA / "prometheus" / "data", ports["prometheus"])
        ),
    }
    if not external_mongo:
        procs["mongodb"] = (
            f"{FERRETDB_BIN} --handler=sqlite --sqlite-url=file:{DATA / 'ferretdb/sqlite'}/ "
            f"--listen-addr=127.0.0.1:{ports['mongodb']} --telemetry=disable --debug-addr=- "
            f"--state-dir={DATA / 'ferretdb'} --log-level=warn --log-format=json"
        )
    procfile = DATA / "Procfile"
    procfile.write_text("".join(f"{name}: {cmd}\n" for name, cmd in procs.items()))

    step(f"starting {', '.join(procs)} under honcho (Ctrl-C stops everything)")
    honcho = subprocess.Popen(
        [str(VENV_BIN / "honcho"), "-f", str(procfile), "-d", str(ROOT), "--no-colour", "start"], env=env
    )
    # Ctrl-C goes to the whole foreground group: honcho handles it; we wait for honcho to finish.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, lambda *_: honcho.send_signal(signal.SIGTERM))

    gw = f"http://127.0.0.1:{ports['gateway']}"
    deadline = time.monotonic() + 120
    ready = False
    while time.monotonic() < deadline and honcho.poll() is None:
        if http_ok(f"{gw}/api/v1/health/ready") and http_ok(f"{gw}/api/v1/pdf-service/health/ready"):
            ready = True
            break
        time.sleep(0.5)
    if ready:
        seed = subprocess.run(  # noqa: S603
            [str(VENV_BIN / "python"), "-m", "core_api", "demo-data", "--if-empty", "--json"],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        login = {}
        if seed.returncode == 0:
            login = json.loads(seed.stdout.strip().splitlines()[-1] or "{}")
        else:
            print(f"demo data failed:\n{seed.stderr[-2000:]}", file=sys.stderr)
        internal = f"http://127.0.0.1:{ports['gateway-internal']}"
        print(
            "\n"
            f"  Stack is up.\n"
            f"  Gateway (public):       {gw}/api/v1/health\n"
            f"  API docs (core-api):    {gw}/api/v1/docs\n"
            f"  API docs (pdf-service): {gw}/api/v1/pdf-service/docs\n"
            f"  Traefik dashboard:      {internal}/dashboard/   (metrics: {internal}/metrics)\n"
            f"  Prometheus:             http://127.0.0.1:{ports['prometheus']}/targets   (alerts: /alerts)\n"
            f"  Log in:  curl -s {gw}/api/v1/auth/login -H 'content-type: application/json' \\\n"
            f"             -d '{json.dumps({'email': login.get('email', '?'), 'password': login.get('password', '?')})}'\n"
            f"  {login.get('note', '')}\n"
            "  Press Ctrl-C to stop.\n",
            flush=True,
        )
    elif honcho.poll() is None:
        print("make up: the gateway did not answer ready within 120 s; see the logs above", file=sys.stderr)

    code = honcho.wait()
    time.sleep(0.5)
    left = [f"{n}:{p}" for n, p in ports.items() if port_open(p)]
    if left:
        print(f"make up: still listening after stop: {', '.join(left)}", file=sys.stderr)
        sys.exit(1)
    print("==> stopped; no port left listening", flush=True)
    sys.exit(0 if code in (0, -2, 130) else code)


if __name__ == "__main__":
    main()
