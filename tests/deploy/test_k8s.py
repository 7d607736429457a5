"""deploy/k8s renders offline with kustomize and passes ``kubernetes-validate --strict``.

Rendering uses ``kubectl kustomize`` (kubectl ships kustomize) or a standalone ``kustomize``;
only CloudNativePG's custom resources may go without a schema (a warning, never a failure).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from shared.infra import nats_server_binary
from shared.nats_permissions import NATS_PERMISSIONS

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
OVERLAYS = sorted(p.name for p in (K8S / "overlays").iterdir() if p.is_dir())
SERVICES = {"gateway": 8000, "registry": 8001, "ingest": 8002, "search": 8003}
CUSTOM = {("postgresql.cnpg.io/v1", "Cluster"), ("postgresql.cnpg.io/v1", "ScheduledBackup")}


def _render_command(path: Path) -> list[str]:
    if shutil.which("kubectl"):
        return ["kubectl", "kustomize", str(path)]
    if shutil.which("kustomize"):
        return ["kustomize", "build", str(path)]
    raise AssertionError("neither kubectl nor kustomize found: apt-get install kubectl")


@pytest.fixture(scope="module", params=OVERLAYS)
def rendered(request, tmp_path_factory) -> tuple[Path, list[dict]]:
    out = subprocess.run(_render_command(K8S / "overlays" / request.param),
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    path = tmp_path_factory.mktemp("k8s") / f"{request.param}.yaml"
    path.write_text(out.stdout)
    return path, [d for d in yaml.safe_load_all(out.stdout) if d]


def _find(docs, kind, name=None):
    found = [d for d in docs if d["kind"] == kind and (name is None
                                                       or d["metadata"]["name"] == name)]
    assert found, f"no {kind} {name or ''}"
    return found


def test_overlays_exist_for_small_and_larger_regency():
    assert {"small-regency", "large-regency"} <= set(OVERLAYS)


def test_no_remote_bases_or_helm():
    for kfile in K8S.rglob("kustomization.yaml"):
        doc = yaml.safe_load(kfile.read_text())
        assert "helmCharts" not in doc, kfile
        for ref in doc.get("resources", []):
            assert "://" not in ref and not ref.startswith("github.com"), (kfile, ref)


def test_rendered_manifests_pass_strict_validation(rendered):
    path, docs = rendered
    out = subprocess.run([str(Path(sys.executable).parent / "kubernetes-validate"), "--strict",
                          str(path)], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    lines = (out.stdout + out.stderr).splitlines()
    assert not [line for line in lines if line.startswith("ERROR")], out.stdout
    warned = [line for line in lines if line.startswith("WARN")]
    assert len(warned) == len([d for d in docs if (d["apiVersion"], d["kind"]) in CUSTOM])
    assert all("postgresql.cnpg.io" in line for line in warned), warned


def test_every_service_has_probes_resources_pdb_hpa_and_service(rendered):
    _, docs = rendered
    for name, port in SERVICES.items():
        dep = _find(docs, "Deployment", name)[0]
        c = dep["spec"]["template"]["spec"]["containers"][0]
        assert c["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert c["livenessProbe"]["httpGet"]["path"] == "/healthz"
        assert c["resources"]["requests"] and c["resources"]["limits"]
        assert {"name": "http", "containerPort": port} in c["ports"]
        assert _find(docs, "Service", name)[0]["spec"]["ports"][0]["port"] == port
        assert _find(docs, "PodDisruptionBudget", name)
        hpa = _find(docs, "HorizontalPodAutoscaler", name)[0]
        assert hpa["spec"]["scaleTargetRef"]["name"] == name
        assert hpa["spec"]["maxReplicas"] >= hpa["spec"]["minReplicas"]
        env = {e["name"] for e in c["env"]}
        assert {"NATS_URL", f"{name.upper()}_SIGNING_KEY"} <= env
        # its own signing key only: no Deployment can sign as another service
        assert [e for e in env if e.endswith("_SIGNING_KEY")] == [f"{name.upper()}_SIGNING_KEY"]
        assert ("DATABASE_URL" in env) == (name != "gateway")


def test_only_gateway_is_reachable_from_outside(rendered):
    _, docs = rendered
    policies = _find(docs, "NetworkPolicy")
    deny = [p for p in policies if p["spec"]["podSelector"] == {}]
    assert deny and deny[0]["spec"]["policyTypes"] == ["Ingress"] and "ingress" not in deny[0]["spec"]

    def allowed_from(target: str) -> list[list[dict]]:
        rules = []
        for p in policies:
            sel = p["spec"]["podSelector"].get("matchLabels", {})
            if sel.get("app.kubernetes.io/name") == target:
                rules += [r.get("from") for r in p["spec"].get("ingress", [])]
        return rules

    assert allowed_from("gateway") == [None]  # no "from": anyone, on the gateway's port only
    sources = {"registry": {"gateway", "ingest", "search"}, "ingest": {"gateway"},
               "search": {"gateway"}}
    for service, expected in sources.items():
        rules = allowed_from(service)
        assert rules and all(r is not None for r in rules), service  # never open to all
        pods = {peer["podSelector"]["matchLabels"]["app.kubernetes.io/name"]
                for r in rules for peer in r if "podSelector" in peer}
        assert pods == expected, service
        namespaces = {peer["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
                      for r in rules for peer in r if "namespaceSelector" in peer}
        assert namespaces <= {"monitoring"}, service
    for store in ("nats",):
        assert all(r is not None for r in allowed_from(store))


def test_nats_is_a_three_node_jetstream_cluster_and_postgres_three_instances(rendered):
    _, docs = rendered
    nats = _find(docs, "StatefulSet", "nats")[0]
    assert nats["spec"]["replicas"] == 3
    conf = _find(docs, "ConfigMap", "nats-config")[0]["data"]["nats.conf"]
    assert "jetstream" in conf and conf.count("nats-headless:6222") == 3
    config = [d for d in _find(docs, "ConfigMap")
              if d["metadata"]["name"].startswith("satudata-config")][0]
    assert config["data"]["NATS_STREAM_REPLICAS"] == "3"
    cluster = _find(docs, "Cluster", "satudata-db")[0]
    assert cluster["spec"]["instances"] == 3
    backup = _find(docs, "ScheduledBackup")[0]
    assert backup["spec"]["cluster"]["name"] == "satudata-db"
    job = _find(docs, "Job", "satudata-migrate")[0]
    assert job["spec"]["template"]["spec"]["containers"][0]["command"] == ["satudata", "migrate"]
    secrets = {d["metadata"]["name"].rsplit("-", 1)[0] for d in _find(docs, "Secret")}
    assert {"satudata-signing", "satudata-nats"} <= secrets


USER_RE = re.compile(r'\{user: "([\w-]+)", password: \$(\w+)(?:, permissions: \{\s*'
                     r'publish: (\[[^\]]*\]),\s*subscribe: (\[[^\]]*\])\})?\}')


def test_each_service_has_its_own_nats_user_with_only_its_permissions(rendered, tmp_path):
    """The cluster's users are the services' users of `make up` (shared/infra.py
    NATS_PERMISSIONS), each Deployment connects as its own, and nats-server accepts the file."""
    _, docs = rendered
    conf = _find(docs, "ConfigMap")
    conf = next(c["data"]["nats.conf"] for c in conf if "nats.conf" in c.get("data", {}))
    users = {m[0]: (m[1], m[2] and json.loads(m[2]), m[3] and json.loads(m[3]))
             for m in USER_RE.findall(conf)}
    assert set(users) == {"satudata", *NATS_PERMISSIONS}
    for name, rules in NATS_PERMISSIONS.items():
        assert users[name][1:] == (rules["publish"], rules["subscribe"]), name
        env = {e["name"]: e for e in _find(docs, "Deployment", name)[0]["spec"]["template"][
            "spec"]["containers"][0]["env"]}
        assert env["NATS_URL"]["value"] == f"nats://{name}:$(NATS_PASSWORD)@nats:4222"
        assert env["NATS_PASSWORD"]["valueFrom"]["secretKeyRef"]["key"] == f"{name}_password"
    nats = _find(docs, "StatefulSet", "nats")[0]["spec"]["template"]["spec"]["containers"][0]
    keys = {e["name"]: e["valueFrom"]["secretKeyRef"]["key"] for e in nats["env"]
            if "secretKeyRef" in e.get("valueFrom", {})}
    assert {keys[var] for _, (var, *_) in users.items()} == {
        "password", *(f"{n}_password" for n in NATS_PERMISSIONS)}
    path = tmp_path / "nats.conf"  # (pytest keeps the last three runs' only)
    path.write_text(conf)
    env = {**os.environ, "POD_NAME": "nats-0", **{var: "contoh" for var in keys}}
    out = subprocess.run([nats_server_binary(), "-c", str(path), "-t"], env=env,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and "is valid" in out.stdout + out.stderr, out.stderr
