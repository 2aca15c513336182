"""Observability for the SREs, checked against the real tools and the real stack:

- deploy/observability's Prometheus config, recording and alert rules pass `promtool check` and the
  alert unit tests pass `promtool test rules`;
- the Grafana dashboards are what build_dashboards.py generates, every panel expression parses, and
  every metric a panel reads is one the services (or Traefik) really expose;
- /metrics: Basic Auth on each service, absent from the public entry point;
- a real Prometheus with that config scrapes core-api, pdf-service and Traefik.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import yaml
from devstack.prometheus import prometheus_args, render_prometheus
from devstack.servers import free_port
from prometheus_client import REGISTRY
from prometheus_client.metrics import MetricWrapperBase
from prometheus_client.parser import text_string_to_metric_families
from shared import metrics as shared_metrics  # noqa: F401 - registers every metric definition
from shared.settings import DEV_METRICS_PASSWORD

ROOT = Path(__file__).resolve().parents[2]
OBS = ROOT / "deploy" / "observability"
PROMTOOL = "/usr/bin/promtool"
AUTH = ("metrics", DEV_METRICS_PASSWORD)

#: what the Litestar Prometheus plugin exposes (created on the first request, not at import)
HTTP_METRICS = {
    "http_requests_total",
    "http_requests_error_total",
    "http_requests_in_progress",
    "http_request_duration_seconds_bucket",
    "http_request_duration_seconds_count",
    "http_request_duration_seconds_sum",
}
#: Traefik series that exist only after an event: server_up is first set when a health check runs
#: against a server whose state it has to record (seen in Traefik 3.7 once a backend is down)
TRAEFIK_CONDITIONAL = {"traefik_service_server_up"}
PROMQL_WORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless", "bool"}


def promtool(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([PROMTOOL, *args], capture_output=True, text=True, cwd=cwd, timeout=60, check=False)


def metric_names(expr: str) -> set[str]:
    """Metric names a PromQL expression reads (label matchers, ranges, groupings and functions removed)."""
    e = re.sub(r'"[^"]*"', '""', expr)
    e = re.sub(r"\{[^}]*\}", " ", e)
    e = re.sub(r"\[[^\]]*\]", " ", e)
    e = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", e)
    names = set()
    for m in re.finditer(r"(?<![\w.])[a-zA-Z_:][a-zA-Z0-9_:]*", e):
        if e[m.end() :].lstrip().startswith("(") or m.group(0) in PROMQL_WORDS:
            continue
        names.add(m.group(0))
    return names


def dashboard_exprs() -> list[tuple[str, str, str]]:
    out = []
    for path in sorted((OBS / "grafana" / "dashboards").glob("*.json")):
        board = json.loads(path.read_text())
        for panel in board["panels"]:
            for target in panel["targets"]:
                out.append((path.name, panel["title"], target["expr"]))
    return out


def recording_rule_names() -> set[str]:
    doc = yaml.safe_load((OBS / "rules" / "recording.yml").read_text())
    return {rule["record"] for group in doc["groups"] for rule in group["rules"]}


def test_prometheus_config_and_rules_pass_promtool(tmp_path: Path) -> None:
    work = tmp_path / "observability"
    shutil.copytree(OBS, work)
    (work / "secrets").mkdir()
    (work / "secrets" / "metrics_password").write_text("pw")  # compose mounts the real secret here
    checked = promtool("check", "config", str(work / "prometheus.yml"))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "2 rule files found" in checked.stdout + checked.stderr
    rules = promtool(
        "check", "rules", str(work / "rules" / "recording.yml"), str(work / "rules" / "alerts.yml")
    )
    assert rules.returncode == 0, rules.stdout + rules.stderr
    alerts = yaml.safe_load((work / "rules" / "alerts.yml").read_text())
    names = {rule["alert"] for group in alerts["groups"] for rule in group["rules"]}
    assert names >= {
        "InstanceDown",
        "HighHttp5xxRatio",
        "HighP95Latency",
        "PdfRenderFailures",
        "EventsDeadLettered",
        "EventBacklogHigh",
        "CacheErrorRate",
        # blindness (issue 12): a target with no samples or missing key series, a worker that
        # stopped consuming, a growing dead-letter stream, PDF jobs older than a bound
        "TargetScrapesNothing",
        "KeySeriesMissing",
        "WorkerStoppedConsuming",
        "DeadLetterQueueGrowing",
        "PdfJobsStuck",
    }
    unit = promtool("test", "rules", "alerts_test.yml", cwd=work / "tests")
    assert unit.returncode == 0, unit.stdout + unit.stderr
    assert "SUCCESS" in unit.stdout + unit.stderr


def test_dashboards_are_generated_and_every_expression_parses(tmp_path: Path) -> None:
    stale = subprocess.run(
        [sys.executable, str(OBS / "grafana" / "build_dashboards.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert stale.returncode == 0, stale.stderr
    boards = {p.name: json.loads(p.read_text()) for p in (OBS / "grafana" / "dashboards").glob("*.json")}
    assert set(boards) == {"core-api.json", "pdf-service.json", "gateway-pdf-rollout.json"}
    datasource_uid = yaml.safe_load((OBS / "grafana/provisioning/datasources/prometheus.yml").read_text())[
        "datasources"
    ][0]["uid"]
    for name, board in boards.items():
        assert len({p["id"] for p in board["panels"]}) == len(board["panels"]), name
        for panel in board["panels"]:
            assert panel["title"] and panel["description"] and panel["targets"], (name, panel["title"])
            assert panel["datasource"]["uid"] == datasource_uid

    # promtool parses each expression as a recording rule ($__rate_interval is Grafana's, not PromQL)
    exprs = dashboard_exprs()
    rules = {
        "groups": [
            {
                "name": "dashboard-expressions",
                "rules": [
                    {"record": f"dashboard:expr_{i}", "expr": expr.replace("$__rate_interval", "5m")}
                    for i, (_, _, expr) in enumerate(exprs)
                ],
            }
        ]
    }
    rules_file = tmp_path / "dashboard-exprs.yml"
    rules_file.write_text(yaml.safe_dump(rules))
    parsed = promtool("check", "rules", str(rules_file))
    assert parsed.returncode == 0, parsed.stdout + parsed.stderr
    assert f"{len(exprs)} rules found" in parsed.stdout


def test_metrics_need_basic_auth_and_stay_off_the_public_entry_point(stack) -> None:
    for name, srv in stack.services.items():
        assert httpx.get(f"{srv.url}/metrics").status_code == 401, name
        assert httpx.get(f"{srv.url}/metrics", auth=("metrics", "wrong")).status_code == 401, name
        ok = httpx.get(f"{srv.url}/metrics", auth=AUTH)
        assert ok.status_code == 200 and "http_requests_total" in ok.text, name
    assert httpx.get(f"{stack.gateway}/metrics", auth=AUTH).status_code == 404
    assert httpx.get(f"{stack.gateway}/api/v1/metrics", auth=AUTH).status_code in (401, 404)
    # the internal entry point routes to each service's /metrics; the service still checks the password
    assert httpx.get(f"{stack.internal}/metrics/core-api").status_code == 401
    assert httpx.get(f"{stack.internal}/metrics/core-api", auth=AUTH).status_code == 200


def test_every_dashboard_and_rule_metric_is_exposed(stack) -> None:
    # traffic through the gateway so the services and Traefik have series for what panels read
    with httpx.Client(base_url=stack.gateway, timeout=10) as client:
        for path in (
            "/api/v1/health",
            "/api/v1/health/ready",
            "/api/v1/pdf-service/health",
            "/api/v1/pis/x/pdf",
        ):
            client.get(path)
    # up and scrape_samples_scraped: series Prometheus itself records for every target
    exposed: set[str] = (
        {"up", "scrape_samples_scraped"} | recording_rule_names() | HTTP_METRICS | TRAEFIK_CONDITIONAL
    )
    for url, auth in (
        (f"{stack.services['core-api'].url}/metrics", AUTH),
        (f"{stack.services['pdf-service'].url}/metrics", AUTH),
        (f"{stack.internal}/metrics", None),
    ):
        text = httpx.get(url, auth=auth, timeout=10).text
        for family in text_string_to_metric_families(text):
            exposed |= {sample.name for sample in family.samples}
    # the real scrapes carry the core series, with the label values the rules select on
    scraped = set(exposed)
    assert {
        "http_requests_total",
        "mongodb_command_duration_seconds_bucket",
        "redis_command_duration_seconds_bucket",
        "traefik_service_requests_total",
        "traefik_router_requests_total",
        "traefik_entrypoint_requests_total",
        "traefik_service_request_duration_seconds_bucket",
    } <= scraped
    traefik_text = httpx.get(f"{stack.internal}/metrics", timeout=10).text
    assert 'router="pdf-documents@file"' in traefik_text
    assert 'entrypoint="web"' in traefik_text

    # metrics defined in shared.metrics but not yet observed in this run (e.g. no PDF rendered yet)
    for collector in list(REGISTRY._collector_to_names):  # noqa: SLF001 - the registry's own index
        if not isinstance(collector, MetricWrapperBase):
            continue
        for family in collector.describe():
            suffixes = {"histogram": ("_bucket", "_count", "_sum"), "counter": ("_total",)}.get(
                family.type, ("",)
            )
            exposed |= {family.name + s for s in suffixes}

    wanted: dict[str, set[str]] = {}
    for board, title, expr in dashboard_exprs():
        for name in metric_names(expr):
            wanted.setdefault(name, set()).add(f"{board}: {title}")
    for doc in ("recording.yml", "alerts.yml"):
        for group in yaml.safe_load((OBS / "rules" / doc).read_text())["groups"]:
            for rule in group["rules"]:
                for name in metric_names(rule["expr"]):
                    wanted.setdefault(name, set()).add(f"{doc}: {rule.get('record') or rule.get('alert')}")
    missing = {name: sorted(where) for name, where in wanted.items() if name not in exposed}
    assert not missing, missing
    assert "histogram_quantile" not in wanted and "sum" not in wanted  # the name parser skips functions


def test_prometheus_scrapes_every_target(stack, tmp_path: Path) -> None:
    port = free_port()
    config = render_prometheus(
        tmp_path / "prometheus",
        targets={
            "core-api": stack.services["core-api"].url.removeprefix("http://"),
            "pdf-service": stack.services["pdf-service"].url.removeprefix("http://"),
            "traefik": stack.internal.removeprefix("http://"),
            "prometheus": f"127.0.0.1:{port}",
        },
        metrics_password=DEV_METRICS_PASSWORD,
        scrape_interval_seconds=1,
    )
    log = (tmp_path / "prometheus.log").open("wb")
    proc = subprocess.Popen(  # noqa: S603
        prometheus_args(config, tmp_path / "tsdb", port), stdout=log, stderr=subprocess.STDOUT
    )
    try:
        deadline, health = time.monotonic() + 120, {}
        while time.monotonic() < deadline:
            assert proc.poll() is None, (tmp_path / "prometheus.log").read_text()[-2000:]
            try:
                targets = httpx.get(f"http://127.0.0.1:{port}/api/v1/targets", timeout=2).json()
                health = {t["labels"]["job"]: t["health"] for t in targets["data"]["activeTargets"]}
            except (httpx.HTTPError, ValueError, KeyError):  # not listening yet, or not answering JSON yet
                health = {}
            if health and all(h == "up" for h in health.values()):
                break
            time.sleep(0.5)
        assert health == {"core-api": "up", "pdf-service": "up", "traefik": "up", "prometheus": "up"}, health
        result: dict = {}
        for _ in range(60):  # the first scrape's samples are queryable a moment after the target is up
            result = httpx.get(
                f"http://127.0.0.1:{port}/api/v1/query",
                params={"query": 'http_requests_total{job="core-api"}'},
                timeout=10,
            ).json()
            if result.get("data", {}).get("result"):
                break
            time.sleep(1)
        assert result["data"]["result"], result
    finally:
        proc.terminate()
        proc.wait(10)
        log.close()


@pytest.mark.parametrize(
    ("expr", "names"),
    [
        ('sum by (path) (rate(http_requests_total{app_name="core-api"}[5m]))', {"http_requests_total"}),
        (
            "app:http_requests_5xx:rate5m / app:http_requests:rate5m",
            {"app:http_requests_5xx:rate5m", "app:http_requests:rate5m"},
        ),
        ("histogram_quantile(0.95, sum by (le) (rate(x_bucket[$__rate_interval])))", {"x_bucket"}),
        ("1 - gateway:share", {"gateway:share"}),
    ],
)
def test_metric_name_parser(expr: str, names: set[str]) -> None:
    assert metric_names(expr) == names
