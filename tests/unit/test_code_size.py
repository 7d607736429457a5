"""Modules stay small enough to read, functions short enough to hold in one's head.

No module over 400 lines, no function over 60, in services/, shared/ and satudata/."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MODULE_MAX, FUNCTION_MAX = 400, 60
EXCLUDED: tuple[str, ...] = ()


def _sources():
    for folder in ("services", "shared", "satudata"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            if "/migrations/" not in rel and not rel.startswith(EXCLUDED):
                yield rel, path.read_text()


def _functions(tree):
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            start = min([d.lineno for d in node.decorator_list] + [node.lineno])
            yield node.name, node.lineno, node.end_lineno - start + 1


def test_no_module_is_over_400_lines():
    long = [(rel, n) for rel, text in _sources() if (n := len(text.splitlines())) > MODULE_MAX]
    assert long == []


def test_no_function_is_over_60_lines():
    long = [(rel, name, line, n) for rel, text in _sources()
            for name, line, n in _functions(ast.parse(text)) if n > FUNCTION_MAX]
    assert long == []


def test_the_checker_would_catch_a_long_function():
    source = "def f():\n" + "    x = 1\n" * 70
    assert [n for _, _, n in _functions(ast.parse(source))] == [71]
