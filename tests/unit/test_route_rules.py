"""Routes parse, call a use case and shape the answer: they import no store, open no
transaction and check no role in their bodies (shared.web's dependencies do both)."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ROUTE_FILES = [*ROOT.glob("services/registry/*/routes.py"), ROOT / "services/ingest/api.py",
               ROOT / "services/ingest/ckan_api.py", ROOT / "services/ingest/receipts_api.py",
               ROOT / "services/search/api.py"]
BY_HAND = {"transaction", "require_steward", "require_principal", "principal_from_headers"}


def _problems(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
            found += [f"imports {n}" for n in names
                      if n.endswith((".store", ".staging")) or n.split(".")[-1] in BY_HAND]
        elif isinstance(node, ast.Call):
            name = getattr(node.func, "attr", getattr(node.func, "id", ""))
            if name in BY_HAND:
                found.append(f"calls {name}() on line {node.lineno}")
    return found


def test_routes_leave_sql_transactions_and_roles_to_others():
    assert len(ROUTE_FILES) >= 9
    assert {str(p.relative_to(ROOT)): _problems(p) for p in ROUTE_FILES
            if _problems(p)} == {}


def test_the_checker_would_catch_a_transaction(tmp_path):
    bad = tmp_path / "routes.py"
    bad.write_text("from services.registry.records import store\n"
                   "async def f(pool):\n    async with conn.transaction():\n        pass\n")
    assert len(_problems(bad)) == 2
