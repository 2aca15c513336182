"""Generate the Grafana dashboards (JSON that Grafana imports) from one list of panels per dashboard.

    python deploy/observability/grafana/build_dashboards.py          # rewrite dashboards/*.json
    python deploy/observability/grafana/build_dashboards.py --check  # exit 1 if they are stale

Plain dicts in Grafana's dashboard schema (v39), no dashboard library: panels are few and alike.
Every PromQL expression here is parsed by promtool and its metric names are checked against the
services' real /metrics output in tests/contract/test_observability.py.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

OUT = Path(__file__).resolve().parent / "dashboards"
DATASOURCE = {"type": "prometheus", "uid": "prometheus"}
RI = "$__rate_interval"
PDF_PATHS = 'path=~"/api/v1/(pis|contratos)/.+/pdf"'


@dataclass
class Panel:
    title: str
    description: str
    targets: list[tuple[str, str]]  # (PromQL, legend)
    kind: str = "timeseries"
    unit: str = "short"
    width: int = 12
    stack: bool = False
    thresholds: list[tuple[float, str]] = field(default_factory=list)


def _panel(p: Panel, pid: int, x: int, y: int) -> dict:
    defaults: dict = {"unit": p.unit}
    if p.thresholds:
        defaults["thresholds"] = {
            "mode": "absolute",
            "steps": [{"color": "green", "value": None}]
            + [{"color": c, "value": v} for v, c in p.thresholds],
        }
    if p.kind == "timeseries":
        defaults["custom"] = {
            "drawStyle": "line",
            "lineWidth": 1,
            "fillOpacity": 20 if p.stack else 0,
            "stacking": {"mode": "normal" if p.stack else "none", "group": "A"},
            "showPoints": "never",
        }
    return {
        "id": pid,
        "type": p.kind,
        "title": p.title,
        "description": p.description,
        "datasource": DATASOURCE,
        "gridPos": {"h": 8, "w": p.width, "x": x, "y": y},
        "fieldConfig": {"defaults": defaults, "overrides": []},
        "options": {"legend": {"displayMode": "table", "placement": "bottom", "calcs": ["mean", "max"]}}
        if p.kind == "timeseries"
        else {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False}},
        "targets": [
            {"refId": chr(ord("A") + i), "datasource": DATASOURCE, "expr": expr, "legendFormat": legend}
            for i, (expr, legend) in enumerate(p.targets)
        ],
    }


def dashboard(uid: str, title: str, description: str, panels: list[Panel]) -> dict:
    laid, x, y = [], 0, 0
    for i, p in enumerate(panels, start=1):
        if x + p.width > 24:
            x, y = 0, y + 8
        laid.append(_panel(p, i, x, y))
        x += p.width
    return {
        "uid": uid,
        "title": title,
        "description": description,
        "tags": ["outdoor"],
        "timezone": "browser",
        "schemaVersion": 39,
        "version": 1,
        "editable": True,
        "refresh": "30s",
        "time": {"from": "now-3h", "to": "now"},
        "templating": {"list": []},
        "annotations": {"list": []},
        "panels": laid,
    }


def service_http_panels(app: str) -> list[Panel]:
    sel = f'app_name="{app}"'
    return [
        Panel(
            "Requests per second by route",
            "Throughput per route template (not raw path) and method, summed over every instance and worker.",
            [(f"sum by (path, method) (rate(http_requests_total{{{sel}}}[{RI}]))", "{{method}} {{path}}")],
            unit="reqps",
            stack=True,
        ),
        Panel(
            "5xx ratio",
            "Share of responses with a 5xx status over 5 minutes; the HighHttp5xxRatio alert fires above 5 % for 5 min.",
            [(f"app:http_requests_5xx:ratio_rate5m{{{sel}}}", "5xx ratio")],
            kind="stat",
            unit="percentunit",
            width=6,
            thresholds=[(0.01, "orange"), (0.05, "red")],
        ),
        Panel(
            "Requests in progress",
            "Requests (and open WebSockets) being handled right now, summed over live workers.",
            [(f"sum(http_requests_in_progress{{{sel}}})", "in progress")],
            kind="stat",
            width=6,
        ),
        Panel(
            "Latency p50 / p95 / p99",
            "Whole-service request duration quantiles from the histogram (buckets 5 ms to 10 s); the HighP95Latency alert fires above 500 ms for 10 min.",
            [
                (
                    f"histogram_quantile({q}, sum by (le) (rate(http_request_duration_seconds_bucket{{{sel}}}[{RI}])))",
                    f"p{int(q * 100)}",
                )
                for q in (0.5, 0.95, 0.99)
            ],
            unit="s",
            thresholds=[(0.5, "red")],
        ),
        Panel(
            "p95 latency by route",
            "The slowest routes first: p95 per route template.",
            [
                (
                    f"histogram_quantile(0.95, sum by (path, le) (rate(http_request_duration_seconds_bucket{{{sel}}}[{RI}])))",
                    "{{path}}",
                )
            ],
            unit="s",
        ),
        Panel(
            "Responses by status code",
            "Stacked responses per second by status code: 2xx, 4xx (401/403/404/409/422) and 5xx.",
            [(f"sum by (status_code) (rate(http_requests_total{{{sel}}}[{RI}]))", "{{status_code}}")],
            unit="reqps",
            stack=True,
        ),
        Panel(
            "Errors by route (5xx)",
            "Which route template is failing, per second.",
            [
                (
                    f"sum by (path, status_code) (rate(http_requests_error_total{{{sel}}}[{RI}]))",
                    "{{status_code}} {{path}}",
                )
            ],
            unit="reqps",
        ),
    ]


def datastore_panels(job: str) -> list[Panel]:
    sel = f'job="{job}"'
    return [
        Panel(
            "MongoDB p95 by command and collection",
            "Driver-measured round trip (pymongo command monitoring) per command (find, insert, update, aggregate, ...) and collection.",
            [
                (
                    f"histogram_quantile(0.95, sum by (command, collection, le) (rate(mongodb_command_duration_seconds_bucket{{{sel}}}[{RI}])))",
                    "{{command}} {{collection}}",
                )
            ],
            unit="s",
        ),
        Panel(
            "MongoDB commands per second and failures",
            "Command rate by command, with failed commands (server errors, timeouts) as separate series.",
            [
                (
                    f"sum by (command) (rate(mongodb_command_duration_seconds_count{{{sel}}}[{RI}]))",
                    "{{command}}",
                ),
                (
                    f"sum by (command) (rate(mongodb_command_failures_total{{{sel}}}[{RI}]))",
                    "failed {{command}}",
                ),
            ],
            unit="ops",
        ),
        Panel(
            "Redis p99 by command",
            "Client-side Redis latency per command (PIPELINE/MULTI for a pipeline); the client times out at REDIS_TIMEOUT_SECONDS.",
            [
                (
                    f"histogram_quantile(0.99, sum by (command, le) (rate(redis_command_duration_seconds_bucket{{{sel}}}[{RI}])))",
                    "{{command}}",
                )
            ],
            unit="s",
        ),
        Panel(
            "Redis errors",
            "Redis commands that raised, by command and error class (TimeoutError, ConnectionError, ...).",
            [
                (
                    f"sum by (command, error) (rate(redis_command_errors_total{{{sel}}}[{RI}]))",
                    "{{command}} {{error}}",
                )
            ],
            unit="ops",
        ),
    ]


def core_api() -> dict:
    panels = service_http_panels("core-api") + [
        Panel(
            "Cache hit ratio",
            "Hits / lookups per cache (http = response cache of /placas and /regioes, placa = cache-aside).",
            [
                (
                    f'sum by (cache) (rate(cache_requests_total{{job="core-api", result="hit"}}[{RI}])) / sum by (cache) (rate(cache_requests_total{{job="core-api"}}[{RI}]))',
                    "{{cache}}",
                )
            ],
            unit="percentunit",
        ),
        Panel(
            "Cache errors (fail-open)",
            "Cache operations that failed and fell back to MongoDB, by cache and operation; the CacheErrorRate alert fires above 10 % of lookups.",
            [
                (
                    f'sum by (cache, operation) (rate(cache_errors_total{{job="core-api"}}[{RI}]))',
                    "{{cache}} {{operation}}",
                )
            ],
            unit="ops",
        ),
        *datastore_panels("core-api"),
        Panel(
            "Records created per hour",
            "Business activity: placas, aluguéis, PIs, contratos (and regiões, clientes) created, per hour, all empresas together.",
            [("sum by (entity) (increase(business_entities_created_total[1h]))", "{{entity}}")],
            stack=True,
        ),
        Panel(
            "Legacy PDF renders",
            "PDFs rendered in-process by core-api (the strangler fig's legacy side) per second by document and outcome, and p95 render time.",
            [
                (
                    f'sum by (document, outcome) (rate(pdf_rendered_total{{renderer="legacy"}}[{RI}]))',
                    "{{document}} {{outcome}}",
                ),
                (
                    f'histogram_quantile(0.95, sum by (le) (rate(pdf_render_duration_seconds_bucket{{renderer="legacy"}}[{RI}])))',
                    "p95 render time (s)",
                ),
            ],
        ),
        Panel(
            "Events published",
            "Events core-api publishes (pdf.requested, ...) per second by topic, with publish failures.",
            [
                (f'sum by (topic) (rate(events_published_total{{job="core-api"}}[{RI}]))', "{{topic}}"),
                (
                    f'sum by (topic) (rate(events_publish_failures_total{{job="core-api"}}[{RI}]))',
                    "failed {{topic}}",
                ),
            ],
            unit="ops",
        ),
        Panel(
            "Instances up",
            "core-api instances Prometheus can scrape; red when none.",
            [('sum(up{job="core-api"})', "up")],
            kind="stat",
            width=6,
            thresholds=[(0, "red"), (1, "green")],
        ),
    ]
    return dashboard(
        "outdoor-core-api",
        "core-api",
        "Traffic, errors and latency by route; MongoDB, Redis and cache; business activity; legacy PDFs; events.",
        panels,
    )


def pdf_service() -> dict:
    panels = service_http_panels("pdf-service") + [
        Panel(
            "PDFs rendered by document and outcome",
            "PDFs rendered by pdf-service (HTTP and jobs) per second, split by document (pi, contrato) and outcome (success, failure).",
            [
                (
                    f'sum by (document, outcome) (rate(pdf_rendered_total{{renderer="pdf-service"}}[{RI}]))',
                    "{{document}} {{outcome}}",
                )
            ],
            unit="ops",
            stack=True,
        ),
        Panel(
            "Render time p50 / p95",
            "WeasyPrint render duration; compare with core-api's legacy renderer on the rollout dashboard.",
            [
                (
                    f'histogram_quantile({q}, sum by (le) (rate(pdf_render_duration_seconds_bucket{{renderer="pdf-service"}}[{RI}])))',
                    f"p{int(q * 100)}",
                )
                for q in (0.5, 0.95)
            ],
            unit="s",
        ),
        Panel(
            "Jobs in flight",
            "PDF jobs being rendered now, summed over live workers (a worker that dies stops counting).",
            [("sum by (job) (jobs_in_flight)", "{{job}}")],
        ),
        Panel(
            "Jobs finished",
            "Background jobs finished per second by outcome, and p95 job duration.",
            [
                (f"sum by (job, outcome) (rate(jobs_processed_total[{RI}]))", "{{job}} {{outcome}}"),
                (
                    f"histogram_quantile(0.95, sum by (job, le) (rate(job_duration_seconds_bucket[{RI}])))",
                    "p95 {{job}} (s)",
                ),
            ],
        ),
        Panel(
            "Events consumed by outcome",
            "Deliveries handled per second by topic, consumer group and outcome; retries and dead letters alongside.",
            [
                (f"sum by (topic, outcome) (rate(events_consumed_total[{RI}]))", "{{topic}} {{outcome}}"),
                (f"sum by (topic) (rate(events_retried_total[{RI}]))", "retried {{topic}}"),
                (f"sum by (topic) (increase(events_dead_lettered_total[{RI}]))", "dead-lettered {{topic}}"),
            ],
            unit="ops",
        ),
        Panel(
            "Event handling time p95",
            "Time a handler spends on one delivery, by topic.",
            [
                (
                    f"histogram_quantile(0.95, sum by (topic, le) (rate(event_handling_duration_seconds_bucket[{RI}])))",
                    "{{topic}}",
                )
            ],
            unit="s",
        ),
        Panel(
            "Stream backlog: pending and lag",
            "Per stream and consumer group: delivered-but-unacknowledged (pending) and not-yet-delivered (lag) messages; the EventBacklogHigh alert fires above 100 for 10 min.",
            [
                ("max by (stream, group) (event_stream_pending_messages)", "pending {{stream}}/{{group}}"),
                ("max by (stream, group) (event_stream_lag_messages)", "lag {{stream}}/{{group}}"),
            ],
            thresholds=[(100, "red")],
        ),
        *datastore_panels("pdf-service"),
        Panel(
            "Instances up",
            "pdf-service API instances and PDF worker processes Prometheus can scrape; red when none.",
            [('sum(up{job="pdf-service"})', "api"), ('sum(up{job="pdf-worker"})', "workers")],
            kind="stat",
            width=6,
            thresholds=[(0, "red"), (1, "green")],
        ),
    ]
    return dashboard(
        "outdoor-pdf-service",
        "pdf-service",
        "HTTP traffic, PDF renders and render time, PDF jobs, event consumption and stream backlog, MongoDB/Redis.",
        panels,
    )


def gateway_rollout() -> dict:
    panels = [
        Panel(
            "PDF traffic share per backend (gateway)",
            "Of the requests on the strangler-fig PDF route, the share answered by the new path (pdf-service with failover) and by the legacy core-api. Moves when `make rollout PDF=n` changes the weights.",
            [
                ("gateway:pdf_new_backend_share:ratio_rate5m", "pdf-service (new)"),
                ("1 - gateway:pdf_new_backend_share:ratio_rate5m", "core-api (legacy)"),
            ],
            unit="percentunit",
            stack=True,
        ),
        Panel(
            "PDF requests per second per backend (services)",
            "The same split seen by the services themselves: PDF route requests per second by app.",
            [(f"sum by (app_name) (rate(http_requests_total{{{PDF_PATHS}}}[{RI}]))", "{{app_name}}")],
            unit="reqps",
            stack=True,
        ),
        Panel(
            "PDF errors per backend",
            "5xx ratio of the PDF routes per backend; a rollout step is rolled back (`make rollout PDF=0`) when the new backend is worse.",
            [
                (
                    f'sum by (app_name) (rate(http_requests_total{{{PDF_PATHS}, status_code=~"5.."}}[{RI}])) / sum by (app_name) (rate(http_requests_total{{{PDF_PATHS}}}[{RI}]))',
                    "{{app_name}}",
                )
            ],
            unit="percentunit",
            thresholds=[(0.01, "red")],
        ),
        Panel(
            "PDF p95 latency per backend",
            "p95 duration of the PDF routes per backend, from each service's histogram.",
            [
                (
                    f"histogram_quantile(0.95, sum by (app_name, le) (rate(http_request_duration_seconds_bucket{{{PDF_PATHS}}}[{RI}])))",
                    "{{app_name}}",
                )
            ],
            unit="s",
        ),
        Panel(
            "Gateway requests per second by entry point and code",
            "Everything Traefik answered on the public entry point (web), stacked by status code (429 = rate limited).",
            [
                (
                    f'sum by (code) (rate(traefik_entrypoint_requests_total{{entrypoint="web"}}[{RI}]))',
                    "{{code}}",
                )
            ],
            unit="reqps",
            stack=True,
        ),
        Panel(
            "p95 latency per Traefik service",
            "Gateway-measured p95 per backend service (includes network and queueing in the service).",
            [
                (
                    f"histogram_quantile(0.95, sum by (service, le) (rate(traefik_service_request_duration_seconds_bucket[{RI}])))",
                    "{{service}}",
                )
            ],
            unit="s",
        ),
        Panel(
            "5xx ratio per Traefik service",
            "Share of 5xx per backend service as the gateway saw it (502/504 when a backend is down or slow).",
            [("service:traefik_service_requests_5xx:ratio_rate5m", "{{service}}")],
            unit="percentunit",
        ),
        Panel(
            "Shadow (mirrored) PDF traffic",
            "Requests mirrored to pdf-service for parity checks; its answers never reach clients.",
            [
                (
                    f'sum by (code) (rate(traefik_service_requests_total{{service="pdf-service-shadow@file"}}[{RI}]))',
                    "{{code}}",
                )
            ],
            unit="reqps",
        ),
        Panel(
            "Backend servers up (gateway health checks)",
            "1 per backend server Traefik's health check considers up, by service and URL.",
            [("max by (service, url) (traefik_service_server_up)", "{{service}} {{url}}")],
        ),
    ]
    return dashboard(
        "outdoor-gateway-rollout",
        "Gateway and PDF rollout",
        "Traefik traffic, errors and latency per backend, and the strangler-fig PDF split between core-api and pdf-service.",
        panels,
    )


DASHBOARDS = {
    "core-api.json": core_api,
    "pdf-service.json": pdf_service,
    "gateway-pdf-rollout.json": gateway_rollout,
}


def render() -> dict[str, str]:
    return {
        name: json.dumps(build(), indent=2, ensure_ascii=False) + "\n" for name, build in DASHBOARDS.items()
    }


def main() -> int:
    check = "--check" in sys.argv[1:]
    stale = []
    for name, text in render().items():
        path = OUT / name
        if check:
            if not path.exists() or path.read_text() != text:
                stale.append(name)
        else:
            OUT.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    if stale:
        print(f"stale dashboards: {', '.join(stale)}; run {Path(__file__).name}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
