"""Alerts and the dashboard stay true: each alert links to a runbook that exists, and every
metric they use is one a service exports (named in the code)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
RULES = yaml.safe_load((ROOT / "deploy/prometheus/alerts.yaml").read_text())
DASHBOARD = json.loads((ROOT / "deploy/grafana/satudata-dashboard.json").read_text())
CODE = "\n".join(p.read_text() for p in [*ROOT.glob("shared/*.py"),
                                          *ROOT.glob("services/**/*.py")])
EXPORTED = set(re.findall(r'"((?:satudata|search)_[a-z_]+)"', CODE))
PROMQL_WORDS = {"satudata"}


def _metrics_in(expr: str) -> set[str]:
    names = set(re.findall(r"\b((?:satudata|search)_[a-z_]+)\b", expr))
    return {re.sub(r"_(bucket|count|sum)$", "", n) for n in names} - PROMQL_WORDS


def test_every_alert_links_to_a_runbook_that_exists():
    alerts = [r for g in RULES["groups"] for r in g["rules"]]
    assert {a["alert"] for a in alerts} >= {"SatudataDatabaseAway", "SatudataNatsNodeLost",
                                            "SatudataDeadLettersGrowing", "SatudataIndexStale"}
    for alert in alerts:
        runbook = alert["annotations"]["runbook_url"]
        assert (ROOT / runbook).is_file(), (alert["alert"], runbook)
        assert alert["alert"] in (ROOT / "docs/runbooks/README.md").read_text()


def test_alerts_and_dashboard_use_only_exported_metrics():
    exprs = [r["expr"] for g in RULES["groups"] for r in g["rules"]]
    exprs += [t["expr"] for p in DASHBOARD["panels"] for t in p["targets"]]
    used = set().union(*map(_metrics_in, exprs))
    assert used and used <= EXPORTED, used - EXPORTED
