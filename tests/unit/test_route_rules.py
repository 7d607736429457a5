"""Routes parse, call a use case and shape the answer: they import no store, open no
transaction or connection and check no role in their bodies (shared.web's dependencies do
both). Every service's route modules are covered, the gateway's included."""

import ast
import re
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
                      if n.endswith("store") or n.split(".")[-1] in BY_HAND]
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


# A string holding a statement (docstrings aside): what only a store module may write.
STATEMENT = re.compile(r"\b(SELECT|INSERT INTO|DELETE FROM|ON CONFLICT|UPDATE \w+( AS)?( \w+)? SET)\b")


def _statements(path: Path) -> list[int]:
    tree = ast.parse(path.read_text())
    docs = {id(n.body[0].value) for n in ast.walk(tree)
            if isinstance(n, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
            and n.body and isinstance(n.body[0], ast.Expr)}
    return [n.lineno for n in ast.walk(tree) if isinstance(n, ast.Constant)
            and isinstance(n.value, str) and id(n) not in docs and STATEMENT.search(n.value)]


def _may_hold_sql(path: Path) -> bool:
    """store.py, <part>_store.py, search's statement builders (services/search/sql/) and the
    migrations."""
    rel = path.relative_to(ROOT / "services").parts
    return (path.stem.endswith("store") or "migrations" in rel
            or rel[:2] == ("search", "sql"))


def test_sql_is_written_only_in_store_modules():
    """docs/architecture.md: SQL for a service's own schema lives in its store modules."""
    found = {str(p.relative_to(ROOT)): lines for p in sorted((ROOT / "services").rglob("*.py"))
             if not _may_hold_sql(p) and (lines := _statements(p))}
    assert found == {}


def test_the_sql_checker_would_catch_a_statement(tmp_path):
    bad = tmp_path / "service.py"
    bad.write_text('"""Reads SELECT in a docstring, which is fine."""\n'
                   'async def f(conn):\n    """SELECT here is prose too."""\n'
                   '    await conn.fetch("SELECT 1 FROM records")\n'
                   '    await conn.execute(f"UPDATE records r SET x = {1}")\n')
    assert _statements(bad) == [4, 5]
