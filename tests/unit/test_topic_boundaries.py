"""The registry's topics are whole and meet only through each other's use cases.

- Outside a topic folder the registry holds only the app, settings, consumers, the models every
  topic shares and the migrations (whose metadata.py gathers the topics' tables).
- A module of one topic imports from another topic only its ``service`` (use cases) or
  ``models`` (types): never its store, routes or internals.
- Topics depend on each other in one direction: no cycle.
Parsed from the source, so a new module cannot slip past.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
REGISTRY = ROOT / "services" / "registry"
ROOT_MODULES = {"__init__", "app", "settings", "consumers", "models"}
PUBLIC = {"service", "models", "web"}  # what one topic may import of another (web: route helpers)


def topics() -> list[str]:
    return sorted(p.name for p in REGISTRY.iterdir()
                  if p.is_dir() and any(p.glob("*.py")) and p.name != "migrations")


def _imported(path: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.startswith("services.registry"):
                names += [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names += [a.name for a in node.names if a.name.startswith("services.registry")]
    return names


def _target(name: str, known: set[str]) -> tuple[str, str] | None:
    """(topic, module) an import names, for a topic of the registry."""
    parts = name.split(".")
    if len(parts) >= 4 and parts[2] in known:
        return parts[2], parts[3]
    return None


def edges_and_violations(root: Path = REGISTRY, known: set[str] | None = None
                         ) -> tuple[dict[str, set[str]], list[str]]:
    known = known or set(topics())
    edges: dict[str, set[str]] = defaultdict(set)
    problems = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root)
        if rel.parts[0] == "migrations":
            continue
        here = rel.parts[0] if len(rel.parts) > 1 else None
        if here is None and path.stem not in ROOT_MODULES:
            problems.append(f"{rel}: outside a topic")
        for name in _imported(path):
            target = _target(name, known)
            if target is None or target[0] == here:
                continue
            topic, module = target
            if module not in PUBLIC and not (here is None and path.stem in ("app",
                                                                             "consumers")):
                problems.append(f"{rel}: imports {topic}.{module}")
            if here:
                edges[here].add(topic)
    return edges, sorted(set(problems))


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    found, state, stack = [], {}, []

    def visit(node: str) -> None:
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == "open":
                found.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = "done"

    for node in sorted(edges):
        if node not in state:
            visit(node)
    return found


def test_topics_are_whole_and_meet_only_through_their_use_cases():
    _, problems = edges_and_violations()
    assert problems == []


def test_topics_depend_on_each_other_in_one_direction():
    edges, _ = edges_and_violations()
    assert cycles(edges) == []


def test_the_checker_would_catch_a_store_import_and_a_cycle(tmp_path):
    for topic, body in (("alpha", "from services.registry.beta import store\n"),
                        ("beta", "from services.registry.alpha import service\n")):
        (tmp_path / topic).mkdir()
        (tmp_path / topic / "__init__.py").write_text("")
        (tmp_path / topic / "service.py").write_text(body)
    (tmp_path / "helpers.py").write_text("")
    edges, problems = edges_and_violations(tmp_path, {"alpha", "beta"})
    assert "alpha/service.py: imports beta.store" in problems
    assert "helpers.py: outside a topic" in problems
    assert cycles(edges) == [["alpha", "beta", "alpha"]]
