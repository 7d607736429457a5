"""Routes parse, call a use case and shape the answer: they import no store, open no
transaction or connection and check no role in their bodies (shared.web's dependencies do
both). Every service's route modules are covered, the gateway's included."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ROUTE_FILES = sorted({*ROOT.glob("services/*/routes.py"), *ROOT.glob("services/*/*_routes.py"),
                      *ROOT.glob("services/registry/*/routes.py")})
BY_HAND = {"transaction", "acquire", "require_steward", "require_principal",
           "principal_from_headers", "ensure_steward"}
ROLE_ATTRIBUTES = {"is_steward", "role"}  # a role read in a route is a check by hand


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
        elif isinstance(node, ast.Attribute) and node.attr in ROLE_ATTRIBUTES:
            found.append(f"reads .{node.attr} on line {node.lineno}")
    return found


def test_routes_leave_sql_transactions_and_roles_to_others():
    assert len(ROUTE_FILES) >= 16
    assert {str(p.relative_to(ROOT)): _problems(p) for p in ROUTE_FILES
            if _problems(p)} == {}


def test_the_checker_would_catch_a_transaction(tmp_path):
    bad = tmp_path / "routes.py"
    bad.write_text("from services.registry.records import store\n"
                   "async def f(pool):\n    async with conn.transaction():\n        pass\n"
                   "    async with pool.acquire() as conn:\n        pass\n"
                   "    if caller.is_steward:\n        pass\n")
    assert len(_problems(bad)) == 4


def test_every_router_lives_in_a_routes_module_and_no_use_case_imports_fastapi():
    """The module names of docs/architecture.md: routers in routes.py (or <part>_routes.py),
    use cases (service.py) free of FastAPI."""
    misplaced = []
    for path in sorted((ROOT / "services").rglob("*.py")):
        text, rel = path.read_text(), str(path.relative_to(ROOT))
        if "APIRouter(" in text and not path.stem.endswith("routes"):
            misplaced.append(f"{rel}: a router outside routes.py")
        if path.stem == "service" and ("from fastapi" in text or "import fastapi" in text):
            misplaced.append(f"{rel}: a use case importing FastAPI")
    assert misplaced == []
