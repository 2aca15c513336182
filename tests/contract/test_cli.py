"""The services' command lines (issue 12) on real processes.

- every entry point's `--help` exits 0, lists its options, starts no process, writes no file and
  leaves a live instance's metrics alone; the top-level help lists the service's own commands;
- a second `core-api serve` on a busy port, or on another port but the live instance's metrics
  directory, exits without touching the live instance's metric files (`/metrics` bytes the same);
- a fresh service exports its labelled families at zero before the first event (pdf-service: the
  PDF families before its first render; core-api: business entities and the legacy renderer).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from devstack.servers import ROOT, Server, free_port, port_open, start_service
from prometheus_client.parser import text_string_to_metric_families
from shared.settings import DEV_METRICS_PASSWORD

BIN = ROOT / ".venv" / "bin"
AUTH = ("metrics", DEV_METRICS_PASSWORD)

#: (argv, words the help must show)
HELPS = [
    (["core-api", "--help"], ["serve", "demo-data", "create-empresa", "create-indexes", "routes"]),
    (["core-api", "serve", "--help"], ["--host", "--port", "--workers", "CORE_API_WORKERS"]),
    (["core-api", "demo-data", "--help"], ["--json", "--password"]),
    (["core-api", "create-empresa", "--help"], ["--nome", "--admin-email", "--admin-password"]),
    (["core-api", "create-indexes", "--help"], ["Usage"]),
    (["pdf-service", "--help"], ["serve", "worker", "asyncapi", "routes"]),
    (["pdf-service", "serve", "--help"], ["--host", "--port", "--workers", "PDF_SERVICE_WORKERS"]),
    (["pdf-service", "worker", "--help"], ["--metrics-port", "--concurrency"]),
    (["pdf-service", "asyncapi", "--help"], ["TARGET"]),
]


def scrape(url: str) -> bytes:
    r = httpx.get(f"{url}/metrics", auth=AUTH, timeout=10)
    assert r.status_code == 200
    return r.content


def series(text: bytes) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(text.decode()):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def files(directory: Path) -> dict[str, int]:
    """name -> inode of every metric file: a wipe or rewrite changes it."""
    return {p.name: p.stat().st_ino for p in sorted(directory.glob("*.db"))}


def writers(directory: Path) -> set[int]:
    """The pids that wrote metric files (prometheus-client names them `<type>_<pid>.db`)."""
    return {int(p.stem.rsplit("_", 1)[1]) for p in directory.glob("*.db")}


def kept(before: dict[str, int], after: dict[str, int]) -> bool:
    return all(after.get(name) == ino for name, ino in before.items())


@pytest.fixture
def live_core_api(mongodb_url: str, redis_url: str, unique_name: str, tmp_path: Path):
    port = free_port()
    metrics_dir = tmp_path / "core-api-metrics"
    env = {
        **os.environ,
        "ENVIRONMENT": "test",
        "MONGODB_URL": mongodb_url,
        "REDIS_URL": redis_url,
        "CORE_API_MONGODB_DB": f"t_cli_{unique_name}",
        "CORE_API_PORT": str(port),
        "CORE_API_INTERNAL_PORT": str(free_port()),
        "CORE_API_WORKERS": "2",
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
        "LOG_JSON": "false",
    }
    srv = start_service("core-api", "core_api", port, env, tmp_path / "core-api", timeout=120)
    srv.extra.update(env=env, metrics_dir=metrics_dir)
    # some traffic, so the workers have written their files
    for _ in range(10):
        httpx.get(f"{srv.url}/api/v1/health", timeout=10)
    try:
        yield srv
    finally:
        srv.stop()


def worker_pids(parent: int) -> list[int]:
    return [int(p) for p in Path(f"/proc/{parent}/task/{parent}/children").read_text().split()]


def _listening_inodes(port: int) -> set[str]:
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:  # LISTEN
                    inodes.add(fields[9])
    return inodes


def ours_listening(port: int, tmpdir: str) -> bool:
    """Whether a process listening on `port` runs with TMPDIR=`tmpdir` (started by this test)."""
    if not port_open(port):
        return False
    inodes = {f"socket:[{i}]" for i in _listening_inodes(port)}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            if not any(os.readlink(fd) in inodes for fd in (proc / "fd").iterdir()):
                continue
            environ = (proc / "environ").read_bytes().split(b"\0")
            if f"TMPDIR={tmpdir}".encode() in environ:
                return True
    return False


def run_cli(
    argv: list[str], env: dict[str, str], cwd: Path, timeout: float = 120
) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603
        [str(BIN / argv[0]), *argv[1:]],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_every_help_exits_0_lists_options_and_starts_or_writes_nothing(
    live_core_api: Server, tmp_path: Path
) -> None:
    env = {
        **live_core_api.extra["env"],
        "PDF_SERVICE_PORT": str(free_port()),
        "PDF_WORKER_METRICS_PORT": str(free_port()),
        "PDF_WORKER_MULTIPROC_DIR": str(tmp_path / "worker-metrics"),
        "TMPDIR": str(tmp_path / "tmp"),
    }
    (tmp_path / "tmp").mkdir()
    metrics_dir = live_core_api.extra["metrics_dir"]
    before_files = files(metrics_dir)
    before = series(scrape(live_core_api.url))
    for argv, words in HELPS:
        cwd = tmp_path / f"cwd-{'-'.join(argv).replace('--', '')}"
        cwd.mkdir()
        out = run_cli(argv, env, cwd)
        assert out.returncode == 0, f"{argv}: {out.returncode}\n{out.stdout}\n{out.stderr}"
        for word in words:
            assert word in out.stdout, f"{argv} --help does not mention {word}:\n{out.stdout}"
        assert list(cwd.iterdir()) == [], f"{argv} wrote {list(cwd.iterdir())}"  # e.g. a file named --help
        assert list((tmp_path / "tmp").iterdir()) == [], (
            f"{argv} created {list((tmp_path / 'tmp').iterdir())}"
        )
        assert not (tmp_path / "worker-metrics").exists(), f"{argv} took a worker metrics directory"
        # a listener on the port that carries this test's environment (its TMPDIR): a free port may
        # since have been taken by another test's server, which is not ours to count
        assert not ours_listening(int(env["PDF_SERVICE_PORT"]), env["TMPDIR"]), f"{argv} started pdf-service"
        assert not ours_listening(int(env["PDF_WORKER_METRICS_PORT"]), env["TMPDIR"]), (
            f"{argv} started the PDF worker"
        )
    # the live instance: its files untouched, no file of another process, every series still
    # exported, no counter going back
    assert kept(before_files, files(metrics_dir))
    # (the `serve` parent builds the app before forking its workers: its zero-initialised series too)
    instance = {live_core_api.proc.pid, *worker_pids(live_core_api.proc.pid)}
    assert writers(metrics_dir) <= instance, "a --help wrote metric files"
    after = series(scrape(live_core_api.url))
    missing = set(before) - set(after)
    assert not missing, f"series gone from the live /metrics: {sorted(missing)[:5]}"
    assert all(after[k] >= v for k, v in before.items() if k[0].endswith("_total")), "a counter went back"


def test_a_second_serve_on_a_busy_port_leaves_the_live_metrics_intact(live_core_api: Server) -> None:
    metrics_dir = live_core_api.extra["metrics_dir"]
    before_files = files(metrics_dir)
    before = scrape(live_core_api.url)
    assert len(before) > 1000
    second = run_cli(["core-api", "serve"], live_core_api.extra["env"], metrics_dir.parent)
    assert second.returncode != 0
    assert "address already in use" in (second.stdout + second.stderr).lower()
    after = scrape(live_core_api.url)
    # nothing was wiped: the same files (inodes), and /metrics as big as before (scrapes add, never remove)
    assert kept(before_files, files(metrics_dir))
    # not blanked (the defect left 0 bytes): the same series, about the same size (values are
    # rendered with varying digits, so a few bytes may come and go)
    assert len(after) >= 0.9 * len(before), f"/metrics went from {len(before)} to {len(after)} bytes"
    assert set(series(before)) <= set(series(after))


def test_a_second_serve_on_the_live_metrics_directory_refuses_and_touches_nothing(
    live_core_api: Server,
) -> None:
    metrics_dir = live_core_api.extra["metrics_dir"]
    before_files = files(metrics_dir)
    before = scrape(live_core_api.url)
    other_port = free_port()
    env = {
        **live_core_api.extra["env"],
        "CORE_API_PORT": str(other_port),
        "CORE_API_INTERNAL_PORT": str(free_port()),
    }
    second = run_cli(["core-api", "serve"], env, metrics_dir.parent)
    assert second.returncode != 0
    assert "belongs to a running instance" in second.stderr
    assert not port_open(other_port)
    assert kept(before_files, files(metrics_dir))
    after = scrape(live_core_api.url)
    assert len(after) >= 0.9 * len(before), f"/metrics went from {len(before)} to {len(after)} bytes"
    assert set(series(before)) <= set(series(after))
    # the holder's own restart (same directory, after it exits) may wipe: the lock is released
    live_core_api.stop()
    deadline = time.monotonic() + 30
    while port_open(live_core_api.port) and time.monotonic() < deadline:
        time.sleep(0.1)
    third = start_service(
        "core-api-2", "core_api", other_port, env, metrics_dir.parent / "third", timeout=120
    )
    try:
        assert (metrics_dir / ".lock").read_text().strip() == str(third.proc.pid)
    finally:
        third.stop()


def test_a_fresh_pdf_service_exports_its_pdf_families_before_the_first_render(
    mongodb_url: str, redis_url: str, unique_name: str, tmp_path: Path, live_core_api: Server
) -> None:
    port = free_port()
    env = {
        **os.environ,
        "ENVIRONMENT": "test",
        "MONGODB_URL": mongodb_url,
        "REDIS_URL": redis_url,
        "PDF_SERVICE_MONGODB_DB": f"t_cli_pdf_{unique_name}",
        "PDF_SERVICE_PORT": str(port),
        "PDF_SERVICE_WORKERS": "1",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "pdf-metrics"),
        "LOG_JSON": "false",
    }
    srv = start_service("pdf-service", "pdf_service", port, env, tmp_path / "pdf", timeout=120)
    try:
        pdf = series(scrape(srv.url))
    finally:
        srv.stop()
    for document in ("pi", "contrato"):
        for outcome in ("success", "failure"):
            key = (
                "pdf_rendered_total",
                (("document", document), ("outcome", outcome), ("renderer", "pdf-service")),
            )
            assert pdf.get(key) == 0.0, f"missing or non-zero: {key}"
        assert (
            "pdf_render_duration_seconds_count",
            (("document", document), ("renderer", "pdf-service")),
        ) in pdf
    core = series(scrape(live_core_api.url))
    for entity in ("regiao", "placa", "cliente", "aluguel", "pi", "contrato"):
        assert ("business_entities_created_total", (("entity", entity),)) in core
    assert ("pdf_jobs_oldest_pending_age_seconds", ()) in core


def test_serve_on_an_inherited_socket_keeps_connections_waiting_across_a_restart(
    mongodb_url: str, redis_url: str, unique_name: str, tmp_path: Path
) -> None:
    """`make up` holds the listening socket and hands it down (SERVE_LISTEN_FD): a request sent while
    `serve` is down waits in the backlog and is answered by the next `serve`, never refused."""
    import socket
    import threading

    held = socket.socket()
    held.bind(("127.0.0.1", 0))
    held.listen(128)
    port = held.getsockname()[1]
    env = {
        **os.environ,
        "ENVIRONMENT": "test",
        "MONGODB_URL": mongodb_url,
        "REDIS_URL": redis_url,
        "CORE_API_MONGODB_DB": f"t_cli_fd_{unique_name}",
        "CORE_API_PORT": str(port),
        "CORE_API_INTERNAL_PORT": str(free_port()),
        "CORE_API_WORKERS": "2",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),
        "SERVE_LISTEN_FD": str(held.fileno()),
        "LOG_JSON": "false",
    }

    log = (tmp_path / "serve.log").open("ab")

    def start() -> subprocess.Popen:
        return subprocess.Popen(  # noqa: S603
            [str(BIN / "core-api"), "serve"],
            env=env,
            cwd=tmp_path,
            stdout=log,
            stderr=subprocess.STDOUT,
            pass_fds=(held.fileno(),),
        )

    answers: list[int] = []

    def ask() -> None:  # sent while nothing serves: it must wait, not be refused
        answers.append(httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=120).status_code)

    try:
        early = threading.Thread(target=ask)
        early.start()
        time.sleep(0.5)
        first = start()
        early.join(150)
        assert answers == [200], (tmp_path / "serve.log").read_text()[-2000:]
        first.send_signal(15)
        assert first.wait(60) == 0
        during = threading.Thread(target=ask)
        during.start()  # the port is still listening (the socket is held): the request waits
        time.sleep(1.0)
        second = start()
        during.join(150)
        assert answers == [200, 200], (tmp_path / "serve.log").read_text()[-2000:]
        second.send_signal(15)
        assert second.wait(60) == 0
    finally:
        held.close()
        log.close()


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["core-api", "--help"], ["serve", "routes", "could not be loaded"]),
        (["core-api", "serve", "--help"], ["--port", "--workers"]),
        (["pdf-service", "--help"], ["serve", "worker", "asyncapi"]),
        (["pdf-service", "worker", "--help"], ["--metrics-port"]),
    ],
)
def test_help_answers_where_the_app_cannot_be_built(
    argv: list[str], words: list[str], tmp_path: Path
) -> None:
    """A fresh shell (no ENVIRONMENT: production, whose settings refuse the development secrets)
    still gets the help, with a note saying why the app's own commands are missing — not a traceback."""
    env = {k: v for k, v in os.environ.items() if k not in {"ENVIRONMENT", "JWT_SECRET", "INTERNAL_TOKEN"}}
    out = run_cli(argv, env, tmp_path)
    assert out.returncode == 0, f"{argv}: {out.returncode}\n{out.stdout}\n{out.stderr}"
    assert "Traceback" not in out.stderr, out.stderr
    for word in words:
        assert word in out.stdout + out.stderr, f"{argv} does not mention {word}:\n{out.stdout}\n{out.stderr}"
    assert list(tmp_path.iterdir()) == []
