"""Static checks of deploy/k8s: YAML parses, kinds and API versions, references between objects,
the rollout patch, and no drift from the local gateway's routes (gateway/dynamic/routes.yml).
The workloads (Deployments, Services, HPAs, settings) are checked by test_k8s_workloads.py."""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from devstack.gateway import GATEWAY_DIR
from devstack.servers import ROOT

K8S = ROOT / "deploy" / "k8s"
TRAEFIK_KINDS = {
    "IngressRoute",
    "Middleware",
    "TraefikService",
    "IngressRouteTCP",
    "ServersTransport",
    "TLSOption",
}
#: the Kubernetes Services the gateway objects reference, with their port (base/core-api.yaml, pdf-service.yaml)
BACKEND_SERVICES = {"core-api": 80, "pdf-service": 80}
#: kinds of other operators' CRDs used by components (not in the Kubernetes schema; checked by
#: test_k8s_workloads.py)
OTHER_CRD_KINDS = {"ServiceMonitor"}
COMPONENTS = sorted(p.name for p in (K8S / "components").iterdir() if (p / "kustomization.yaml").exists())
#: kustomize pinned and built by scripts/build-kustomize.sh (make deps); kubectl's built-in one otherwise
KUSTOMIZE_BIN = ROOT / ".cache" / "bin" / "kustomize"
KUSTOMIZE = (
    [str(KUSTOMIZE_BIN), "build"]
    if KUSTOMIZE_BIN.exists()
    else ([shutil.which("kubectl"), "kustomize"] if shutil.which("kubectl") else None)
)


def all_yaml_files() -> list[Path]:
    return sorted([*K8S.rglob("*.yaml"), *K8S.rglob("*.yml")])


def build(tmp_path: Path, components: tuple[str, ...]) -> list[dict]:
    """`kubectl kustomize` of base + components, as an overlay would include them."""
    overlay = tmp_path / ("-".join(components) or "base")
    overlay.mkdir()
    rel = os.path.relpath(K8S, overlay)
    (overlay / "kustomization.yaml").write_text(
        yaml.safe_dump(
            {
                "apiVersion": "kustomize.config.k8s.io/v1beta1",
                "kind": "Kustomization",
                "namespace": "outdoor",
                "resources": [f"{rel}/base"],
                "components": [f"{rel}/components/{c}" for c in components],
            }
        )
    )
    return kustomize(overlay)


def kustomize(directory: Path) -> list[dict]:
    assert KUSTOMIZE, "kustomize missing: run `make deps` (scripts/build-kustomize.sh builds it with Go)"
    out = subprocess.run([*KUSTOMIZE, str(directory)], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    return [d for d in yaml.safe_load_all(out.stdout) if d]


def by_kind(docs: list[dict], kind: str) -> dict[str, dict]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


def service_refs(obj: dict) -> list[dict]:
    """Every service reference inside a TraefikService spec (weighted, mirroring, failover)."""
    spec = obj["spec"]
    refs: list[dict] = []
    if "weighted" in spec:
        refs += spec["weighted"]["services"]
    if "mirroring" in spec:
        m = spec["mirroring"]
        refs.append({k: v for k, v in m.items() if k in ("name", "kind", "port")})
        refs += m.get("mirrors", [])
    if "failover" in spec:
        refs += [spec["failover"]["service"], spec["failover"]["fallback"]]
    return refs


def check_references(docs: list[dict]) -> None:
    middlewares = by_kind(docs, "Middleware")
    traefik_services = by_kind(docs, "TraefikService")
    k8s_services = {n: {p["port"] for p in s["spec"]["ports"]} for n, s in by_kind(docs, "Service").items()}
    for name, port in BACKEND_SERVICES.items():
        assert port in k8s_services.get(name, set()), (
            f"Service {name} with port {port} missing from the output"
        )
    namespaces = {d["metadata"].get("namespace") for d in docs}
    assert namespaces == {"outdoor"}, namespaces  # references without namespace resolve in one namespace

    def check_service(ref: dict, where: str) -> None:
        name, kind = ref["name"], ref.get("kind", "Service")
        if kind == "TraefikService":
            assert name.endswith("@internal") or name in traefik_services, f"{where}: TraefikService {name}"
            assert "port" not in ref, f"{where}: a TraefikService reference has no port"
        else:
            assert kind == "Service", f"{where}: kind {kind}"
            assert name in BACKEND_SERVICES, f"{where}: Service {name} is neither core-api nor pdf-service"
            assert ref.get("port") == 80, f"{where}: Service {name} must be referenced on port 80"
            assert ref["port"] in k8s_services[name], f"{where}: Service {name} has no port {ref['port']}"

    for name, route in by_kind(docs, "IngressRoute").items():
        assert route["spec"]["entryPoints"] in (["web"], ["internal"]), name
        for r in route["spec"]["routes"]:
            assert r["kind"] == "Rule" and r["match"]
            for mw in r.get("middlewares", []):
                assert mw["name"] in middlewares, f"IngressRoute {name}: Middleware {mw['name']}"
            for svc in r["services"]:
                check_service(svc, f"IngressRoute {name}")
    for name, ts in traefik_services.items():
        refs = service_refs(ts)
        assert refs, name
        for ref in refs:
            check_service(ref, f"TraefikService {name}")
            assert ref["name"] != name, f"{name} references itself"
        if "weighted" in ts["spec"]:
            weights = [s["weight"] for s in ts["spec"]["weighted"]["services"]]
            assert sum(weights) == 100 and all(0 <= w <= 100 for w in weights), (name, weights)
    for m in by_kind(docs, "TraefikService").values():
        for mirror in m["spec"].get("mirroring", {}).get("mirrors", []):
            assert 0 < mirror["percent"] <= 100


@pytest.mark.parametrize("path", all_yaml_files(), ids=lambda p: str(p.relative_to(K8S)))
def test_every_yaml_parses_with_known_kinds(path):
    docs = [d for d in yaml.safe_load_all(path.read_text()) if d is not None]
    assert docs, path
    for doc in docs:
        if isinstance(doc, list):  # a JSON 6902 patch file
            assert all({"op", "path"} <= set(op) for op in doc), path
            continue
        kind, api = doc["kind"], doc["apiVersion"]
        if kind in TRAEFIK_KINDS:
            assert api == "traefik.io/v1alpha1", (path, kind, api)
            assert doc["metadata"]["name"] and doc["spec"]
        elif kind in ("Kustomization", "Component"):
            assert api.startswith("kustomize.config.k8s.io/"), (path, api)


def core_kind_docs() -> list[dict]:
    docs = []
    for path in all_yaml_files():
        for doc in yaml.safe_load_all(path.read_text()):
            if isinstance(doc, dict) and doc.get("kind") not in TRAEFIK_KINDS | OTHER_CRD_KINDS | {
                "Kustomization",
                "Component",
            }:
                docs.append(doc)
    return docs


def test_core_kinds_validate_against_the_kubernetes_schema():
    import kubernetes_validate

    docs = core_kind_docs()
    kinds = {d["kind"] for d in docs}
    assert {"Deployment", "Service", "HorizontalPodAutoscaler", "ConfigMap", "Secret"} <= kinds, kinds
    for doc in docs:
        kubernetes_validate.validate(doc, "1.32", strict=True)


@pytest.mark.parametrize(
    "components",
    [c for n in range(len(COMPONENTS) + 1) for c in itertools.combinations(COMPONENTS, n)],
    ids=lambda c: "+".join(c) or "base",
)
def test_every_combination_builds_and_references_resolve(tmp_path, components):
    docs = build(tmp_path, components)
    check_references(docs)
    split = by_kind(docs, "TraefikService")["pdf-split"]["spec"]["weighted"]
    names = [s["name"] for s in split["services"]]
    assert names[0] == ("core-api-shadowed" if "pdf-shadow" in components else "core-api")
    assert names[1] == ("pdf-service-with-failover" if "pdf-failover" in components else "pdf-service")
    assert ("sticky" in split) == ("pdf-sticky" in components)


def test_rollout_overlay_changes_only_the_split():
    docs = kustomize(K8S / "overlays" / "pdf-rollout")
    check_references(docs)
    patch = yaml.safe_load((K8S / "overlays" / "pdf-rollout" / "pdf-rollout.yaml").read_text())
    expected = {op["path"].split("/")[4]: op["value"] for op in patch}
    split = by_kind(docs, "TraefikService")["pdf-split"]["spec"]["weighted"]["services"]
    assert [s["weight"] for s in split] == [expected["0"], expected["1"]]
    assert split[1]["name"] == "pdf-service-with-failover"


def test_kubernetes_routes_match_the_local_gateway():
    local = yaml.safe_load((GATEWAY_DIR / "dynamic" / "routes.yml").read_text())["http"]
    local_rules = {
        (r["rule"], r.get("priority"), tuple(r["entryPoints"]))
        for name, r in local["routers"].items()
        if name not in ("traefik-internal",)  # the dashboard is not routed in the cluster
    }
    docs = [
        d for p in (K8S / "base" / "gateway").glob("*.yaml") for d in yaml.safe_load_all(p.read_text()) if d
    ]
    k8s_rules = {
        (r["match"], r.get("priority"), tuple(route["spec"]["entryPoints"]))
        for route in by_kind(docs, "IngressRoute").values()
        for r in route["spec"]["routes"]
    }
    assert k8s_rules == local_rules
    local_middlewares = set(local["middlewares"])
    assert local_middlewares == set(by_kind(docs, "Middleware"))
    for name in ("security-headers",):
        assert by_kind(docs, "Middleware")[name]["spec"]["headers"] == local["middlewares"][name]["headers"]
