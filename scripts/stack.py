"""`make up`: run the whole stack in the foreground under supervisord (a real process supervisor).

Preflight checks give one-line messages (a second `make up`, a port in use, a missing tool); then
supervisord runs Redis, FerretDB, core-api, pdf-service (API and worker), Traefik and Prometheus and
restarts any of them that dies (immediately after a crash of a running process, with a growing delay
while one keeps failing to start), without ever stopping the others. Once the gateway answers ready,
the demo data is loaded if the demo user is missing, the README's first step (logging in as the demo
user through the gateway) is tried, and only then are the URLs printed. Ctrl-C reaches supervisord,
which stops every process; this script then checks that no port is left listening.

Each process logs to `.data/logs/<name>.log`; `supervisorctl -c .data/supervisor/supervisord.conf
status` shows them (the soak, `make soak`, uses it to find the pids it kills).
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from devstack.gateway import render_gateway
from devstack.prometheus import PROMETHEUS_BIN, prometheus_args, render_prometheus
from devstack.servers import FERRETDB_BIN, ROOT, port_open, traefik_bin
from devstack.supervisor import MIN_FDS, Program, supervisor_conf
from shared.settings import DEV_METRICS_PASSWORD

DATA = Path(os.environ.get("STACK_DATA_DIR", ROOT / ".data"))
VENV_BIN = ROOT / ".venv" / "bin"
#: how long `make up` waits for the stack (first start on a busy machine included)
READY_TIMEOUT_S = float(os.environ.get("STACK_READY_TIMEOUT", "180"))


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


def demo_login_works(gateway: str, email: str, password: str) -> bool:
    """The README's first step: POST /auth/login through the gateway answers an access token."""
    body = json.dumps({"email": email, "password": password}).encode()
    req = urllib.request.Request(  # noqa: S310 - loopback only
        f"{gateway}/api/v1/auth/login", data=body, headers={"content-type": "application/json"}
    )
    try:
        with urllib.request.urlopen(req, timeout=10) as r:  # noqa: S310
            return r.status == 200 and bool(json.loads(r.read()).get("accessToken"))
    except Exception:  # noqa: BLE001
        return False


def hold_socket(port: int, fd: int) -> int:
    """Listen on 127.0.0.1:port and keep the socket as inheritable fd number `fd`."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(("127.0.0.1", port))
    except OSError as exc:
        die(f"cannot listen on port {port}: {exc}")
    sock.listen(2048)
    os.dup2(sock.fileno(), fd)  # inheritable by default
    sock.close()
    return fd


def prometheus_ui(base: str) -> str:
    """Debian's Prometheus 2.42 ships only the classic UI (/classic/...); newer builds have /targets."""
    return "" if http_ok(f"{base}/targets") else "/classic"


def main() -> None:
    port_vars = {
        "gateway": ("GATEWAY_PORT", 8080),
        "gateway-internal": ("GATEWAY_INTERNAL_PORT", 8082),
        "core-api": ("CORE_API_PORT", 4000),
        "core-api-internal": ("CORE_API_INTERNAL_PORT", 4001),
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
    metrics_user = os.environ.get("METRICS_USERNAME", "metrics")
    metrics_password = os.environ.get("METRICS_PASSWORD", DEV_METRICS_PASSWORD)
    env = {
        **os.environ,
        "ENVIRONMENT": os.environ.get("ENVIRONMENT", "development"),
        "MONGODB_URL": mongo_url,
        "REDIS_URL": f"redis://127.0.0.1:{ports['redis']}/0",
        "CORE_API_PORT": str(ports["core-api"]),
        # service-to-service routes: pdf-service calls them here, the gateway never routes to this port
        "CORE_API_INTERNAL_PORT": str(ports["core-api-internal"]),
        "CORE_API_INTERNAL_URL": f"http://127.0.0.1:{ports['core-api-internal']}",
        "PDF_SERVICE_PORT": str(ports["pdf-service"]),
        "CORE_API_URL": f"http://127.0.0.1:{ports['core-api']}",
        "PDF_SERVICE_URL": f"http://127.0.0.1:{ports['pdf-service']}",
        "PDF_WORKER_METRICS_PORT": str(ports["pdf-worker-metrics"]),
        "GATEWAY_ERRORS_URL": f"http://127.0.0.1:{ports['gateway-errors']}",
        "PYTHONUNBUFFERED": "1",
    }
    # one server per service here: an active health check could only turn a restart into 503s
    # (no other server to send to); the retry middleware waits for the restarted process instead
    static = render_gateway(
        DATA / "gateway",
        web_port=ports["gateway"],
        internal_port=ports["gateway-internal"],
        health_checks=False,
    )
    for sub in ("redis", "ferretdb/sqlite", "logs", "supervisor"):
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
        metrics_password=metrics_password,
    )
    # The services' listening sockets belong to this script for the life of the stack and are handed
    # down (supervisord -> `serve`, SERVE_LISTEN_FD): while `serve` restarts, connections wait in the
    # kernel's backlog instead of being refused.
    held = {
        name: hold_socket(ports[name], fd)
        for name, fd in (("core-api", MIN_FDS + 36), ("pdf-service", MIN_FDS + 37))
    }
    py = VENV_BIN / "python"
    programs = [
        Program(
            "redis",
            f"redis-server --port {ports['redis']} --bind 127.0.0.1 --dir {DATA / 'redis'} "
            "--appendonly yes --appendfsync everysec --save ''",
            priority=10,
        ),
        Program(
            "core-api",
            f"{py} -m core_api serve",
            priority=30,
            startsecs=5,
            stopwaitsecs=30,
            environment={"SERVE_LISTEN_FD": str(held["core-api"])},
        ),
        Program(
            "pdf-api",
            f"{py} -m pdf_service serve",
            priority=30,
            startsecs=5,
            stopwaitsecs=30,
            environment={"SERVE_LISTEN_FD": str(held["pdf-service"])},
        ),
        Program("pdf-worker", f"{py} -m pdf_service worker", priority=30, startsecs=5, stopwaitsecs=30),
        Program("gateway", f"{traefik} --configFile={static}", priority=40),
        # the body of the gateway's own 413/429 (the API's error shape)
        Program(
            "gateway-errors",
            f"{py} -m shared.gateway_errors --port {ports['gateway-errors']}",
            priority=35,
        ),
        Program(
            "prometheus",
            " ".join(prometheus_args(prom_config, DATA / "prometheus" / "data", ports["prometheus"])),
            priority=50,
        ),
    ]
    if not external_mongo:
        programs.insert(
            1,
            Program(
                "mongodb",
                f"{FERRETDB_BIN} --handler=sqlite --sqlite-url=file:{DATA / 'ferretdb/sqlite'}/ "
                f"--listen-addr=127.0.0.1:{ports['mongodb']} --telemetry=disable --debug-addr=- "
                f"--state-dir={DATA / 'ferretdb'} --log-level=warn --log-format=json",
                priority=10,
            ),
        )
    conf = DATA / "supervisor" / "supervisord.conf"
    conf.write_text(supervisor_conf(programs, DATA / "supervisor", DATA / "logs", ROOT))

    step(
        f"starting {', '.join(p.name for p in programs)} under supervisord "
        f"(logs: {DATA / 'logs'}/<name>.log; Ctrl-C stops everything)"
    )
    supervisord = subprocess.Popen(  # noqa: S603
        [str(VENV_BIN / "supervisord"), "-c", str(conf)], env=env, pass_fds=tuple(held.values())
    )
    # Ctrl-C goes to the whole foreground group: supervisord handles it (its children run in their
    # own process groups); we wait for it to finish.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, lambda *_: supervisord.send_signal(signal.SIGTERM))

    gw = f"http://127.0.0.1:{ports['gateway']}"
    deadline = time.monotonic() + READY_TIMEOUT_S
    login: dict[str, str | None] = {}
    ready = False
    while time.monotonic() < deadline and supervisord.poll() is None:
        if not (http_ok(f"{gw}/api/v1/health/ready") and http_ok(f"{gw}/api/v1/pdf-service/health/ready")):
            time.sleep(0.5)
            continue
        if not login:
            # loaded whenever the demo user is missing (another empresa in the database changes nothing)
            seed = subprocess.run(  # noqa: S603
                [str(py), "-m", "core_api", "demo-data", "--json"],
                env=env,
                cwd=ROOT,
                capture_output=True,
                text=True,
                check=False,
            )
            if seed.returncode != 0:
                print(f"demo data failed (retrying):\n{seed.stderr[-2000:]}", file=sys.stderr)
                time.sleep(2)
                continue
            login = json.loads(seed.stdout.strip().splitlines()[-1] or "{}")
        if not login.get("password") or demo_login_works(gw, login["email"] or "", login["password"]):
            ready = True
            break
        time.sleep(2)  # the gateway or core-api is still coming up: try the login again
    if ready:
        internal = f"http://127.0.0.1:{ports['gateway-internal']}"
        prom = f"http://127.0.0.1:{ports['prometheus']}"
        ui = prometheus_ui(prom)
        credentials = json.dumps({"email": login.get("email"), "password": login.get("password")})
        print(
            "\n"
            f"  Stack is up.\n"
            f"  Gateway (public):       {gw}/api/v1/health\n"
            f"  API docs (core-api):    {gw}/api/v1/docs\n"
            f"  API docs (pdf-service): {gw}/api/v1/pdf-service/docs\n"
            f"  Traefik dashboard:      {internal}/dashboard/   (metrics: {internal}/metrics)\n"
            f"  Prometheus:             {prom}{ui}/targets   (alerts: {prom}{ui}/alerts)\n"
            f"  Service /metrics:       Basic Auth {metrics_user}:{metrics_password}  e.g.\n"
            f"                          curl -u {metrics_user}:{metrics_password} "
            f"127.0.0.1:{ports['core-api']}/metrics\n"
            f"  Processes:              {VENV_BIN / 'supervisorctl'} -c {conf} status\n"
            f"  Log in:  curl -s {gw}/api/v1/auth/login -H 'content-type: application/json' \\\n"
            f"             -d '{credentials}'\n"
            f"  {login.get('note', '')}\n"
            "  Press Ctrl-C to stop.\n",
            flush=True,
        )
    elif supervisord.poll() is None:
        print(
            f"make up: the stack did not answer ready within {READY_TIMEOUT_S:.0f} s; see {DATA / 'logs'}",
            file=sys.stderr,
        )

    code = supervisord.wait()
    for fd in held.values():
        os.close(fd)
    deadline = time.monotonic() + 5
    left = [f"{n}:{p}" for n, p in ports.items() if port_open(p)]
    while left and time.monotonic() < deadline:
        time.sleep(0.2)
        left = [f"{n}:{p}" for n, p in ports.items() if port_open(p)]
    if left:
        print(f"make up: still listening after stop: {', '.join(left)}", file=sys.stderr)
        sys.exit(1)
    print("==> stopped; no port left listening", flush=True)
    sys.exit(0 if code in (0, -2, -15, 130) else code)


if __name__ == "__main__":
    main()
