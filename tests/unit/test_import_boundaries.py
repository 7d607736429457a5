"""Services meet only through shared/ contracts and HTTP: prove it by parsing every import."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ["registry", "ingest", "search", "gateway"]


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
            names.extend(f"{node.module}.{a.name}" for a in node.names)
    return names


def _violations(folder: Path, forbidden) -> list[str]:
    found = []
    for path in folder.rglob("*.py"):
        for name in _imports(path):
            if forbidden(name):
                found.append(f"{path.relative_to(ROOT)} imports {name}")
    return found


def test_no_service_imports_another_service():
    problems = []
    for service in SERVICES:
        others = [s for s in SERVICES if s != service]
        problems += _violations(
            ROOT / "services" / service,
            lambda n, others=others: any(n == f"services.{o}" or n.startswith(f"services.{o}.")
                                         for o in others))
    assert problems == []


def test_shared_package_never_imports_services():
    assert _violations(ROOT / "shared", lambda n: n == "services" or n.startswith("services."))\
        == []


def test_the_checker_would_catch_a_cross_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("from services.registry import store\nimport services.search.app\n")
    assert _imports(bad)[:1] == ["services.registry"]
    assert "services.search.app" in _imports(bad)

