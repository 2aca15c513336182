"""Static checks of the workloads under deploy/k8s: what a reviewer would look for in every rendering
(base plus every combination of components), schema validation against Kubernetes 1.32 (strict), and
the environment the manifests give the services checked against the services' own settings."""

from __future__ import annotations

import importlib.util
import itertools
import secrets
import sys
from pathlib import Path
from urllib.parse import urlparse

import click
import kubernetes_validate
import pytest
from core_api.server.cli import CoreApiCLIPlugin
from core_api.settings import CoreApiSettings
from pdf_service.settings import PdfServiceSettings
from pydantic import AliasChoices, ValidationError
from shared import cli as shared_cli
from shared import metrics_process

# the rendering helpers live once, in test_gateway_k8s.py; pytest's importlib mode does not put this
# directory on sys.path, so load that module by its path
_spec = importlib.util.spec_from_file_location(
    "k8s_gateway_checks", Path(__file__).with_name("test_gateway_k8s.py")
)
gw = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = gw
_spec.loader.exec_module(gw)

K8S = gw.K8S
COMBINATIONS = [c for n in range(len(gw.COMPONENTS) + 1) for c in itertools.combinations(gw.COMPONENTS, n)]
KUBERNETES_VERSION = "1.32"
#: the HTTP services: Deployment and Service name → container port, and their settings
HTTP_SERVICES = {"core-api": (4000, CoreApiSettings), "pdf-service": (4100, PdfServiceSettings)}
#: second container ports: core-api's internal listener (CORE_API_INTERNAL_PORT)
INTERNAL_PORTS = {"core-api": {"internal": CoreApiSettings.model_fields["internal_port"].default}}
#: Deployments from our images that serve no HTTP (no Service, no probes: see the comment in the manifest)
WORKERS = {"pdf-worker": PdfServiceSettings}
SETTINGS_OF_IMAGE = {"outdoor/core-api": CoreApiSettings, "outdoor/pdf-service": PdfServiceSettings}
#: variables read outside the settings classes, with the file that reads them (None: a library)
PROCESS_VARIABLES = {
    "PROMETHEUS_MULTIPROC_DIR": Path(metrics_process.__file__),
    "GRACEFUL_SHUTDOWN_SECONDS": Path(shared_cli.__file__),
    "XDG_CACHE_HOME": None,  # fontconfig (WeasyPrint's fonts): its cache on the writable /tmp
}
SECRET_KEYS = {"JWT_SECRET", "METRICS_PASSWORD", "INTERNAL_TOKEN"}
#: Deployments of our images that run another program than the service (no settings, no secrets):
#: gateway-errors serves the bodies of the gateway's 413/429 (python -m shared.gateway_errors)
NOT_THE_SERVICE = {"gateway-errors"}


def render(tmp_path: Path, components: tuple[str, ...]) -> list[dict]:
    return gw.build(tmp_path, components)


def pod_workloads(docs: list[dict]) -> dict[str, dict]:
    return {**gw.by_kind(docs, "Deployment"), **gw.by_kind(docs, "StatefulSet")}


def containers(pod: dict, *, init: bool = True) -> list[dict]:
    return (pod["spec"].get("initContainers", []) if init else []) + pod["spec"]["containers"]


def image_name(image: str) -> str:
    return image.rsplit(":", 1)[0] if ":" in image.rsplit("/", 1)[-1] else image


def settings_aliases(settings_cls: type) -> set[str]:
    """Every environment variable a settings class reads (its aliases, else its field names)."""
    names: set[str] = set()
    for name, field in settings_cls.model_fields.items():
        alias = field.validation_alias
        if isinstance(alias, str):
            names.add(alias)
        elif isinstance(alias, AliasChoices):
            names |= {c for c in alias.choices if isinstance(c, str)}
        else:
            names.add(name.upper())
    return names


def check_container_hardening(workload: str, c: dict) -> None:
    where = f"{workload}/{c['name']}"
    resources = c.get("resources", {})
    for part in ("requests", "limits"):
        assert {"cpu", "memory"} <= set(resources.get(part, {})), f"{where}: {part} cpu+memory"
    sc = c.get("securityContext", {})
    assert sc.get("runAsNonRoot") is True, where
    assert sc.get("allowPrivilegeEscalation") is False, where
    assert sc.get("readOnlyRootFilesystem") is True, where
    assert sc.get("capabilities", {}).get("drop") == ["ALL"], where
    assert not sc.get("capabilities", {}).get("add"), where
    assert sc.get("seccompProfile", {}).get("type") == "RuntimeDefault", where
    assert not sc.get("privileged"), where
    image = c["image"]
    tag = image.rsplit("/", 1)[-1].partition(":")[2]
    assert tag and tag != "latest", f"{where}: image {image} needs a pinned tag"
    if image_name(image) in SETTINGS_OF_IMAGE:
        assert sc.get("runAsUser") == 10001, f"{where}: the Dockerfile's user"


def check_workloads(docs: list[dict]) -> None:
    workloads = pod_workloads(docs)
    services = gw.by_kind(docs, "Service")
    config_maps = gw.by_kind(docs, "ConfigMap")
    secret_objs = gw.by_kind(docs, "Secret")
    accounts = gw.by_kind(docs, "ServiceAccount")
    assert set(HTTP_SERVICES) | set(WORKERS) <= set(gw.by_kind(docs, "Deployment"))

    for name, w in workloads.items():
        pod = w["spec"]["template"]
        spec = pod["spec"]
        labels = pod["metadata"]["labels"]
        assert w["spec"]["selector"]["matchLabels"].items() <= labels.items(), name
        assert spec.get("automountServiceAccountToken") is False, name
        # docker-link variables would set e.g. CORE_API_PORT=tcp://… and break the settings
        assert spec.get("enableServiceLinks") is False, name
        psc = spec.get("securityContext", {})
        assert (
            psc.get("runAsNonRoot") is True and psc.get("seccompProfile", {}).get("type") == "RuntimeDefault"
        )
        if "serviceAccountName" in spec:
            assert accounts[spec["serviceAccountName"]]["automountServiceAccountToken"] is False, name
        volumes = {v["name"]: v for v in spec.get("volumes", [])}
        claims = {t["metadata"]["name"] for t in w["spec"].get("volumeClaimTemplates", [])}
        for c in containers(pod):
            check_container_hardening(name, c)
            for ref in c.get("envFrom", []):
                if "configMapRef" in ref:
                    assert ref["configMapRef"]["name"] in config_maps, (name, ref)
                if "secretRef" in ref:
                    assert ref["secretRef"]["name"] in secret_objs, (name, ref)
            mounts = {m["mountPath"]: m["name"] for m in c.get("volumeMounts", [])}
            for mount_name in mounts.values():
                assert mount_name in volumes or mount_name in claims, (name, mount_name)
            env = {e["name"]: e.get("value") for e in c.get("env", [])}
            if image_name(c["image"]) in SETTINGS_OF_IMAGE:
                # the root filesystem is read-only: the multiprocess directory must be a mount of its own
                # (only `serve` creates it; prometheus-client fails on the first sample without it)
                assert mounts.get("/tmp") and mounts.get(env.get("PROMETHEUS_MULTIPROC_DIR")), (
                    name,
                    c["name"],
                )
        for c in containers(pod, init=False):
            if name in WORKERS:
                assert not c.get("ports") and not any(k.endswith("Probe") for k in c), name
            else:
                assert c.get("readinessProbe") and c.get("livenessProbe"), f"{name}/{c['name']}: probes"

    for name, (container_port, settings_cls) in HTTP_SERVICES.items():
        d = gw.by_kind(docs, "Deployment")[name]
        assert d["spec"]["replicas"] == 3, name
        assert d["spec"]["strategy"] == {
            "type": "RollingUpdate",
            "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1},
        }, name
        spec = d["spec"]["template"]["spec"]
        (c,) = spec["containers"]
        assert c["args"] == ["serve"], name
        ports = {p["name"]: p["containerPort"] for p in c["ports"]}
        assert ports == {"http": container_port, **INTERNAL_PORTS.get(name, {})}, name
        env = {e["name"]: e.get("value") for e in c["env"]}
        prefix = name.upper().replace("-", "_")
        assert env[f"{prefix}_PORT"] == str(container_port) and env[f"{prefix}_HOST"] == "0.0.0.0", name
        assert settings_cls.model_fields["port"].default == container_port, name
        for probe, path in (
            ("readinessProbe", "/api/v1/health/ready"),
            ("livenessProbe", "/api/v1/health"),
            ("startupProbe", "/api/v1/health"),
        ):
            assert c[probe]["httpGet"] == {"path": path, "port": "http"}, (name, probe)
        assert c["lifecycle"]["preStop"] == {"exec": {"command": ["sleep", "15"]}}, name
        grace = spec["terminationGracePeriodSeconds"]
        drain = int(env.get("GRACEFUL_SHUTDOWN_SECONDS") or shared_cli.GRACEFUL_SHUTDOWN_SECONDS)
        assert grace >= 45 and grace >= 15 + drain + 5, (name, grace, drain)

        svc = services[name]
        assert svc["spec"].get("type", "ClusterIP") == "ClusterIP", name
        port, *internal = svc["spec"]["ports"]
        assert port["port"] == 80 and port["targetPort"] == "http", name
        # core-api's internal listener: a Service port named `internal` (a NetworkPolicy selects it)
        assert [(p["name"], p["port"], p["targetPort"]) for p in internal] == [
            ("internal", p, "internal") for p in INTERNAL_PORTS.get(name, {}).values()
        ], name

    # core-api's init container runs a command its CLI really has
    core = gw.by_kind(docs, "Deployment")["core-api"]["spec"]["template"]["spec"]
    (init,) = core["initContainers"]
    group = click.Group()
    CoreApiCLIPlugin(CoreApiSettings(environment="test")).on_cli_init(group)
    assert init["args"] == ["create-indexes"] and "create-indexes" in group.commands
    assert image_name(init["image"]) == image_name(core["containers"][0]["image"])

    # every Service selects a workload's pods, and its named target ports are that workload's ports
    for name, svc in services.items():
        selector = svc["spec"]["selector"]
        targets = [
            w
            for w in workloads.values()
            if selector.items() <= w["spec"]["template"]["metadata"]["labels"].items()
        ]
        assert len(targets) == 1, f"Service {name} selects {len(targets)} workloads"
        container_ports = {
            p.get("name"): p["containerPort"]
            for c in targets[0]["spec"]["template"]["spec"]["containers"]
            for p in c.get("ports", [])
        }
        for port in svc["spec"]["ports"]:
            target = port.get("targetPort", port["port"])
            assert (
                (target in container_ports)
                if isinstance(target, str)
                else (target in container_ports.values())
            )
    for name, w in workloads.items():
        if w["kind"] == "StatefulSet":
            assert w["spec"]["serviceName"] in services, name

    hpas = gw.by_kind(docs, "HorizontalPodAutoscaler")
    deployments = gw.by_kind(docs, "Deployment")
    for name, hpa in hpas.items():
        ref = hpa["spec"]["scaleTargetRef"]
        assert ref["apiVersion"] == "apps/v1" and ref["kind"] == "Deployment" and ref["name"] in deployments
        behavior = hpa["spec"]["behavior"]
        assert behavior["scaleUp"]["stabilizationWindowSeconds"] >= 0, name
        assert behavior["scaleDown"]["stabilizationWindowSeconds"] >= 60, name
        targeted = deployments[ref["name"]]
        assert hpa["spec"]["minReplicas"] <= targeted["spec"]["replicas"] <= hpa["spec"]["maxReplicas"]
    assert {h["spec"]["scaleTargetRef"]["name"] for h in hpas.values()} >= set(HTTP_SERVICES) | set(WORKERS)
    for name in HTTP_SERVICES:
        hpa = next(h for h in hpas.values() if h["spec"]["scaleTargetRef"]["name"] == name)["spec"]
        assert (hpa["minReplicas"], hpa["maxReplicas"]) == (3, 10), name
        targets = {m["resource"]["name"]: m["resource"]["target"] for m in hpa["metrics"]}
        assert targets == {
            "cpu": {"type": "Utilization", "averageUtilization": 70},
            "memory": {"type": "Utilization", "averageUtilization": 80},
        }, name

    for name, pdb in gw.by_kind(docs, "PodDisruptionBudget").items():
        selector = pdb["spec"]["selector"]["matchLabels"]
        assert any(
            selector.items() <= w["spec"]["template"]["metadata"]["labels"].items()
            for w in workloads.values()
        )
    assert set(gw.by_kind(docs, "PodDisruptionBudget")) >= set(HTTP_SERVICES) | set(WORKERS)

    for name, monitor in gw.by_kind(docs, "ServiceMonitor").items():
        svc = [
            s
            for s in services.values()
            if monitor["spec"]["selector"]["matchLabels"].items() <= s["metadata"]["labels"].items()
        ]
        assert len(svc) == 1, name
        port_names = {p.get("name") for p in svc[0]["spec"]["ports"]}
        for endpoint in monitor["spec"]["endpoints"]:
            assert endpoint["port"] in port_names and endpoint["path"] == "/metrics", name
            for part in ("username", "password"):
                ref = endpoint["basicAuth"][part]
                assert ref["key"] in secret_objs[ref["name"]]["stringData"], (name, part)


@pytest.mark.parametrize("components", COMBINATIONS, ids=lambda c: "+".join(c) or "base")
def test_every_combination_renders_sound_workloads(tmp_path, components):
    docs = render(tmp_path, components)
    check_workloads(docs)
    for doc in docs:
        if doc["kind"] not in gw.TRAEFIK_KINDS | gw.OTHER_CRD_KINDS:
            kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
    config = next(iter(gw.by_kind(docs, "ConfigMap").values()))["data"]
    if "dev-datastores" in components:  # the ConfigMap's URLs reach the dev datastores' Services
        services = gw.by_kind(docs, "Service")
        for key, default_port in (("MONGODB_URL", 27017), ("REDIS_URL", 6379)):
            url = urlparse(config[key])
            assert url.hostname in services, key
            assert (url.port or default_port) in {p["port"] for p in services[url.hostname]["spec"]["ports"]}
    else:  # production: managed datastores, nothing of ours runs them
        assert not gw.by_kind(docs, "StatefulSet")
    internal = urlparse(config["CORE_API_INTERNAL_URL"])
    assert internal.hostname == "core-api"
    # the URL names the Service port `internal`, which targets the container port `internal`
    core_ports = {p["name"]: p for p in gw.by_kind(docs, "Service")["core-api"]["spec"]["ports"]}
    assert (
        core_ports["internal"]["port"] == internal.port and core_ports["internal"]["targetPort"] == "internal"
    )
    container = gw.by_kind(docs, "Deployment")["core-api"]["spec"]["template"]["spec"]["containers"][0]
    assert {p["name"]: p["containerPort"] for p in container["ports"]}["internal"] == 4001


def test_strict_validation_catches_a_misspelt_field(tmp_path):
    """Guard for the test above: the strict schema does reject what the API server would reject."""
    deployment = gw.by_kind(render(tmp_path, ()), "Deployment")["core-api"]
    deployment["spec"]["template"]["spec"]["containers"][0]["livenesProbe"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)


def test_the_rollout_overlay_keeps_the_workloads():
    check_workloads(gw.kustomize(K8S / "overlays" / "pdf-rollout"))


# --- the environment the manifests give the services, against the services' settings -------------


def rendered_base(tmp_path: Path) -> list[dict]:
    return render(tmp_path, ())


def container_environments(docs: list[dict]) -> list[tuple[str, type, dict[str, str], set[str]]]:
    """(container, settings class, environment as the kubelet builds it, names set by its own `env`)
    for every container running one of our images."""
    config_maps = gw.by_kind(docs, "ConfigMap")
    secret_objs = gw.by_kind(docs, "Secret")
    found = []
    for name, w in pod_workloads(docs).items():
        for c in containers(w["spec"]["template"]):
            settings_cls = SETTINGS_OF_IMAGE.get(image_name(c["image"]))
            if settings_cls is None or name in NOT_THE_SERVICE:
                continue
            env: dict[str, str] = {}
            for ref in c.get("envFrom", []):  # later sources win, then `env`
                if "configMapRef" in ref:
                    env.update(config_maps[ref["configMapRef"]["name"]]["data"])
                if "secretRef" in ref:
                    env.update(secret_objs[ref["secretRef"]["name"]]["stringData"])
            own = {e["name"]: e["value"] for e in c.get("env", [])}
            found.append((f"{name}/{c['name']}", settings_cls, {**env, **own}, set(own)))
    return found


def load_settings(monkeypatch, settings_cls: type, env: dict[str, str]):
    for name in settings_aliases(CoreApiSettings) | settings_aliases(PdfServiceSettings):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return settings_cls(_env_file=None)


def test_every_variable_the_manifests_set_is_read_by_the_services(tmp_path):
    for var, reader in PROCESS_VARIABLES.items():
        if reader is not None:
            assert var in reader.read_text(), f"{var} is no longer read by {reader}"
    docs = rendered_base(tmp_path)
    either = settings_aliases(CoreApiSettings) | settings_aliases(PdfServiceSettings) | set(PROCESS_VARIABLES)
    # the shared ConfigMap and Secret: each key is read by at least one of the services
    for kind, field in (("ConfigMap", "data"), ("Secret", "stringData")):
        for name, obj in gw.by_kind(docs, kind).items():
            assert set(obj[field]) <= either, (
                f"{kind} {name}: {sorted(set(obj[field]) - either)} read by no service"
            )
    # a container's own `env`: read by that very service
    envs = container_environments(docs)
    assert {where.split("/")[0] for where, *_ in envs} >= set(HTTP_SERVICES) | set(WORKERS)
    for where, settings_cls, _, own in envs:
        unread = own - settings_aliases(settings_cls) - set(PROCESS_VARIABLES)
        assert not unread, f"{where}: {sorted(unread)} not read by {settings_cls.__name__}"


def test_the_placeholder_secrets_are_refused_in_production(tmp_path, monkeypatch):
    envs = container_environments(rendered_base(tmp_path))
    for where, settings_cls, env, _ in envs:
        assert env["ENVIRONMENT"] == "production", where
        assert set(env) >= SECRET_KEYS, where
        with pytest.raises(ValidationError) as refused:
            load_settings(monkeypatch, settings_cls, env)
        for key in SECRET_KEYS:
            assert key in str(refused.value), (where, key)
        # each placeholder on its own is enough to stop the pod
        real = {key: secrets.token_urlsafe(48) for key in SECRET_KEYS}
        for key in SECRET_KEYS:
            with pytest.raises(ValidationError, match=key):
                load_settings(monkeypatch, settings_cls, {**env, **real, key: env[key]})


def test_with_real_secrets_the_settings_load_as_the_manifests_intend(tmp_path, monkeypatch):
    real = {key: secrets.token_urlsafe(48) for key in SECRET_KEYS}
    for where, settings_cls, env, _ in container_environments(rendered_base(tmp_path)):
        s = load_settings(monkeypatch, settings_cls, {**env, **real})
        assert s.environment == "production" and not s.is_development, where
        assert s.mongodb_url == env["MONGODB_URL"] and s.redis_url == env["REDIS_URL"], where
        assert s.workers == 2, where  # two uvicorn processes per pod; replicas come from the HPA
        if where.startswith(tuple(HTTP_SERVICES)) and "create-indexes" not in where:
            assert (s.host, s.port) == ("0.0.0.0", HTTP_SERVICES[where.split("/")[0]][0]), where
        if settings_cls is PdfServiceSettings:
            assert s.core_api_internal_url == "http://core-api:4001", where
        if settings_cls is CoreApiSettings and "create-indexes" not in where:
            assert (s.internal_host, s.internal_port) == ("0.0.0.0", 4001), where
