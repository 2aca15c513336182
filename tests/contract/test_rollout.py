"""The strangler-fig split at a real Traefik: weights, runtime change, failover, shadow, stickiness.

Each test runs its own Traefik (gateway_factory) in front of the session's real core-api and
pdf-service, so changing the split never disturbs the shared gateway. Which backend served a request
is read from Traefik's JSON access log (ServiceName), whatever the status: without a token a PDF route
answers 401/404 from either service, which is all routing needs.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections import Counter

import httpx
import pytest
from devstack.gateway import GATEWAY_DIR, ROLLOUT_FILE
from devstack.rollout import RolloutState, parse, render
from devstack.servers import ROOT, free_port, start_service

CORE = "core-api-pdf@file"
PDF = "pdf-service-pdf@file"
#: a well-formed ObjectId nobody owns: either backend answers 401/404 for it
OID = "65a000000000000000000001"
PDF_PATHS = [f"/api/v1/pis/{OID}/pdf", f"/api/v1/contratos/{OID}/pdf"]

# health checks every 300 ms so failover is noticed quickly, and no rate limit in the way of counting
FAST_HEALTH = {
    "GATEWAY_HEALTHCHECK_INTERVAL": "300ms",
    "GATEWAY_HEALTHCHECK_TIMEOUT": "250ms",
    "GATEWAY_RATE_AVERAGE": "100000",
    "GATEWAY_RATE_BURST": "100000",
}


def rollout(gw, *args: str) -> subprocess.CompletedProcess:
    """The real command, as `make rollout` runs it, against this gateway's watched directory."""
    return subprocess.run(
        [sys.executable, "-m", "devstack.rollout", "--dir", str(gw.dynamic_dir), "--api", gw.internal, *args],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT / "scripts")},
        timeout=60,
        check=False,
    )


def pdf_requests(n: int) -> list[str]:
    return [PDF_PATHS[i % 2] for i in range(n)]


@pytest.fixture
def gateway(stack, gateway_factory):
    return gateway_factory(stack.env["CORE_API_URL"], stack.env["PDF_SERVICE_URL"], **FAST_HEALTH)


def test_checked_in_rollout_file_is_what_the_command_writes():
    text = (GATEWAY_DIR / "dynamic" / ROLLOUT_FILE).read_text()
    assert text == render(RolloutState())
    assert parse(text) == RolloutState(pdf_percent=0, sticky=False, shadow_percent=0)


def test_files_of_earlier_versions_are_still_read():
    earlier = "http:\n  services:\n    pdf-split:\n      weighted:\n        services:\n" + (
        "          - {name: core-api, weight: 60}\n          - {name: pdf-service-with-failover, weight: 40}\n"
    )
    assert parse(earlier) == RolloutState(pdf_percent=40)


def test_at_zero_every_pdf_request_goes_to_core_api(gateway):
    served = gateway.served_by(pdf_requests(40))
    assert served == {CORE: 40}


def test_at_hundred_every_pdf_request_goes_to_pdf_service(gateway):
    result = rollout(gateway, "--pdf", "100")
    assert result.returncode == 0, result.stderr
    served = gateway.served_by(pdf_requests(40))
    assert served == {PDF: 40}
    # only the PDF routes move: the rest of the API stays on core-api
    assert gateway.served_by(["/api/v1/health"] * 5) == {"core-api@file": 5}


def test_at_fifty_both_serve_within_bounds(gateway):
    assert rollout(gateway, "--pdf", "50").returncode == 0
    served = gateway.served_by(pdf_requests(200))
    print(f"split at 50 %: {dict(served)}")
    assert sum(served.values()) == 200
    assert 60 <= served[CORE] <= 140, served
    assert 60 <= served[PDF] <= 140, served
    # the split is visible in Traefik's metrics per backend, PDF routes only
    metrics = httpx.get(gateway.internal + "/metrics").text
    for service in (CORE, PDF):
        counts = re.findall(
            rf'traefik_service_requests_total\{{[^}}]*service="{service}"[^}}]*\}} (\d+)', metrics
        )
        assert sum(map(int, counts)) == served[service], service


def test_change_applies_within_seconds_without_restart(gateway):
    pid = gateway.traefik.proc.pid
    timings = {}
    for target, expected in (("100", PDF), ("0", CORE)):
        start = time.monotonic()
        result = rollout(gateway, "--pdf", target)
        assert result.returncode == 0, result.stderr
        assert "serving it" in result.stdout
        while gateway.served_by(pdf_requests(4)) != {expected: 4}:
            assert time.monotonic() - start < 10, f"PDF={target} not applied within 10 s"
            time.sleep(0.2)
        timings[target] = time.monotonic() - start
    print(f"seconds from `make rollout` to routed: {timings}")
    assert gateway.traefik.proc.poll() is None
    assert gateway.traefik.proc.pid == pid  # the same Traefik process throughout
    assert all(t < 10 for t in timings.values())


def test_failover_to_core_api_when_pdf_service_is_down(stack, gateway_factory, test_tmp):
    # a pdf-service of this test's own, so stopping it leaves the session's services alone
    port = free_port()
    env = {**stack.env, "PDF_SERVICE_PORT": str(port)}
    own_pdf = start_service("pdf-service", "pdf_service", port, env, test_tmp / f"pdf-failover-{port}")
    try:
        gw = gateway_factory(stack.env["CORE_API_URL"], own_pdf.extra["url"], **FAST_HEALTH)
        assert rollout(gw, "--pdf", "100").returncode == 0
        assert gw.served_by(pdf_requests(10)) == {PDF: 10}

        own_pdf.stop()
        stopped = time.monotonic()
        statuses: Counter = Counter()
        first_core = None
        while time.monotonic() - stopped < 3:
            served = gw.served_by(PDF_PATHS[:1])
            if first_core is None and served == {CORE: 1}:
                first_core = time.monotonic() - stopped
            statuses.update(e["DownstreamStatus"] for e in gw.last_entries)
            time.sleep(0.02)
        print(
            f"after stopping pdf-service: first answer by core-api {first_core:.2f} s later; "
            f"statuses {dict(statuses)}"
        )
        # pdf-service's 502 is replayed on core-api (failover errors) until the health check removes it
        assert not [s for s in statuses if s >= 500], statuses
        assert first_core is not None and first_core < 10
        assert gw.served_by(pdf_requests(20)) == {CORE: 20}
    finally:
        own_pdf.stop()


def test_shadow_mirrors_legacy_traffic_to_its_own_series(gateway):
    result = rollout(gateway, "--shadow", "50")
    assert result.returncode == 0, result.stderr
    assert "50 % of core-api's PDF requests mirrored" in result.stdout
    served = gateway.served_by(pdf_requests(60))
    assert served == {CORE: 60}  # clients are answered by core-api only

    def shadow_count() -> int:
        text = httpx.get(gateway.internal + "/metrics").text
        pattern = r'traefik_service_requests_total\{[^}]*service="pdf-service-shadow@file"[^}]*\} (\d+)'
        return sum(int(v) for v in re.findall(pattern, text))

    deadline = time.monotonic() + 5
    while shadow_count() < 15 and time.monotonic() < deadline:
        time.sleep(0.2)
    mirrored = shadow_count()
    print(f"mirrored to pdf-service-shadow: {mirrored} of 60")
    assert 15 <= mirrored <= 45

    assert rollout(gateway, "--shadow", "0").returncode == 0
    assert parse((gateway.dynamic_dir / ROLLOUT_FILE).read_text()).shadow_percent == 0


def test_sticky_cookie_keeps_a_client_on_one_backend(gateway):
    assert rollout(gateway, "--pdf", "50", "--sticky", "on").returncode == 0
    first = httpx.get(gateway.url + PDF_PATHS[0])
    cookie = first.cookies.get("pdf_backend")
    assert cookie, first.headers
    served = gateway.served_by(pdf_requests(30), cookies={"pdf_backend": cookie})
    assert len(served) == 1 and sum(served.values()) == 30, served


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (["--pdf", "abc"], "not a whole number"),
        (["--pdf", "50.5"], "not a whole number"),
        (["--pdf", "-1"], "out of range"),
        (["--pdf", "101"], "out of range"),
        (["--pdf", "25", "--shadow", "200"], "out of range"),
        (["--sticky", "maybe"], "neither on nor off"),
    ],
)
def test_bad_values_change_nothing_and_say_why(tmp_path, args, reason):
    (tmp_path / ROLLOUT_FILE).write_text(render(RolloutState(pdf_percent=10)))
    before = (tmp_path / ROLLOUT_FILE).read_bytes(), (tmp_path / ROLLOUT_FILE).stat().st_mtime_ns
    api = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    result = subprocess.run(
        [sys.executable, "-m", "devstack.rollout", "--dir", str(tmp_path), "--api", api, *args],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT / "scripts")},
        check=False,
    )
    assert result.returncode == 2
    assert reason in result.stderr and "nothing was changed" in result.stderr
    after = (tmp_path / ROLLOUT_FILE).read_bytes(), (tmp_path / ROLLOUT_FILE).stat().st_mtime_ns
    assert after == before
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.endswith(".lock")) == [ROLLOUT_FILE]


def test_no_value_shows_the_state(tmp_path):
    (tmp_path / ROLLOUT_FILE).write_text(render(RolloutState(pdf_percent=25, sticky=True, shadow_percent=5)))
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "devstack.rollout",
            "--dir",
            str(tmp_path),
            "--api",
            f"http://127.0.0.1:{free_port()}",
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT / "scripts")},
        check=False,
    )
    assert result.returncode == 0
    assert re.search(r"core-api .* 75 %", result.stdout)
    assert re.search(r"pdf-service .* 25 %", result.stdout)
    assert "sticky per client              on" in result.stdout
    assert "5 % of core-api's PDF requests mirrored" in result.stdout
    assert "not reachable" in result.stderr


def test_missing_runtime_dir_is_explained(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "devstack.rollout", "--dir", str(tmp_path / "nope"), "--pdf", "5"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT / "scripts")},
        check=False,
    )
    assert result.returncode == 2
    assert "make up" in result.stderr and not (tmp_path / "nope").exists()
