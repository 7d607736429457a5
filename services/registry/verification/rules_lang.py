"""The validation rules' small expression language: parsed, checked, compiled to SQL.

A rule is one boolean expression in Python's syntax, read with ``ast.parse(mode="eval")`` and
never evaluated: every node must be on the whitelist below, names must be the dataset's numeric
measures or its dimensions, and the result is a SQL expression over one row (alias ``i``).

    laki_laki + perempuan == total          in-record: measures of the same row
    guru > 0 and murid / guru <= 60
    jenis_kelamin == "L"                    a dimension compared with a text
    sibling(jumlah, jenis_kelamin="L") + sibling(jumlah, jenis_kelamin="P")
        == sibling(jumlah, jenis_kelamin="T")  cross-record: the row of the same region and
                                               period with that dimension value
    jumlah <= parent(jumlah)                cross-record: the same key one level up (a desa
                                            against its kecamatan)

A missing value (no such measure in the row, no such row) makes the rule not apply: SQL NULL,
read as "passes", as DHIS2 skips a rule when a value is missing. Division by zero is missing too.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from typing import Callable

from shared.contracts import DatasetSchemaV1
from shared.errors import Unprocessable

MAX_LENGTH = 500
MAX_NODES = 80
NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
COMPARE = {ast.Eq: "=", ast.NotEq: "<>", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">",
           ast.GtE: ">="}
ARITH = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}
ALLOWED = (ast.Expression, ast.Compare, ast.BoolOp, ast.And, ast.Or, ast.UnaryOp, ast.Not,
           ast.USub, ast.BinOp, ast.Name, ast.Load, ast.Constant, ast.Call, ast.keyword,
           *COMPARE, *ARITH)
FUNCTIONS = {"sibling", "parent", "abs"}


class RuleError(Unprocessable):
    def __init__(self, message: str):
        super().__init__(f"Aturan tidak dapat dibaca: {message}", code="invalid_rule",
                         details=[{"field": "expression", "code": "invalid_rule",
                                   "message": message}])


@dataclass
class Lookup:
    """A value from another row: ``measure`` in the row whose dimensions are this row's with
    ``dims`` replaced (sibling), or in the parent region's row (parent)."""
    kind: str
    measure: str
    dims: dict[str, str] = field(default_factory=dict)


@dataclass
class Rule:
    expression: str
    tree: ast.Expression
    cross: bool  # refers to other rows (sibling, parent)


def parse(expression: str, *, measures: set[str], dimensions: dict[str, set[str]]) -> Rule:
    """Parse and check a rule against the dataset's numeric measures and dimensions."""
    text = (expression or "").strip()
    if not text or len(text) > MAX_LENGTH:
        raise RuleError(f"ekspresi wajib diisi dan paling panjang {MAX_LENGTH} karakter.")
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as e:
        raise RuleError(f"penulisan salah di dekat kolom {e.offset or 0}.") from None
    nodes = list(ast.walk(tree))
    if len(nodes) > MAX_NODES:
        raise RuleError("ekspresi terlalu panjang; pecah menjadi beberapa aturan.")
    for node in nodes:
        if not isinstance(node, ALLOWED):
            raise RuleError(f"bagian '{ast.unparse(node) or type(node).__name__}'"
                            " tidak diizinkan. Gunakan ukuran, dimensi, angka, teks, + - * /, "
                            "perbandingan, and/or/not, sibling(), parent(), abs().")
    checker = _Checker(measures, dimensions)
    if checker.kind(tree.body) != "bool":
        raise RuleError("aturan harus berupa perbandingan, mis. 'guru > 0'.")
    return Rule(expression=text, tree=tree, cross=checker.cross)


class _Checker:
    """Types every node: 'num', 'text', 'dim' (a dimension's value) or 'bool'."""

    def __init__(self, measures: set[str], dimensions: dict[str, set[str]]):
        self.measures, self.dimensions, self.cross = measures, dimensions, False

    def kind(self, node: ast.AST) -> str:
        if isinstance(node, ast.BoolOp):
            if any(self.kind(v) != "bool" for v in node.values):
                raise RuleError("and/or menghubungkan perbandingan, bukan angka.")
            return "bool"
        if isinstance(node, ast.UnaryOp):
            inner = self.kind(node.operand)
            if isinstance(node.op, ast.Not) != (inner == "bool"):
                raise RuleError("'not' untuk perbandingan, tanda minus untuk angka.")
            return inner
        if isinstance(node, ast.Compare):
            return self._compare(node)
        if isinstance(node, ast.BinOp):
            if self.kind(node.left) != "num" or self.kind(node.right) != "num":
                raise RuleError("+ - * / hanya untuk angka dan ukuran.")
            return "num"
        if isinstance(node, ast.Constant):
            if isinstance(node.value, bool) or not isinstance(node.value, (int, float, str)):
                raise RuleError(f"nilai {node.value!r} tidak diizinkan.")
            return "text" if isinstance(node.value, str) else "num"
        if isinstance(node, ast.Name):
            if node.id in self.measures:
                return "num"
            if node.id in self.dimensions:
                return "dim"
            raise RuleError(f"'{node.id}' bukan ukuran angka atau dimensi dataset ini.")
        if isinstance(node, ast.Call):
            return self._call(node)
        raise RuleError("bagian ini tidak diizinkan.")

    def _compare(self, node: ast.Compare) -> str:
        kinds = [self.kind(node.left)] + [self.kind(c) for c in node.comparators]
        if set(kinds) <= {"num"}:
            return "bool"
        if sorted(kinds) == ["dim", "text"] and isinstance(node.ops[0], (ast.Eq, ast.NotEq)):
            return "bool"
        raise RuleError("bandingkan angka dengan angka, atau dimensi dengan teks (== atau !=).")

    def _call(self, node: ast.Call) -> str:
        name = node.func.id if isinstance(node.func, ast.Name) else None
        if name not in FUNCTIONS:
            raise RuleError("fungsi yang dikenal hanya sibling(), parent() dan abs().")
        if name == "abs":
            if len(node.args) != 1 or node.keywords or self.kind(node.args[0]) != "num":
                raise RuleError("abs() menerima satu angka.")
            return "num"
        self.cross = True
        if len(node.args) != 1 or not isinstance(node.args[0], ast.Name) \
                or node.args[0].id not in self.measures:
            raise RuleError(f"{name}() menerima satu ukuran angka, mis. {name}(jumlah).")
        if name == "parent" and node.keywords:
            raise RuleError("parent() tidak menerima dimensi.")
        if name == "sibling" and not node.keywords:
            raise RuleError("sibling() menyebut dimensi yang berbeda, mis. "
                            "sibling(jumlah, jenis_kelamin=\"L\").")
        for kw in node.keywords:
            allowed = self.dimensions.get(kw.arg or "")
            value = kw.value.value if isinstance(kw.value, ast.Constant) else None
            if allowed is None or not isinstance(value, str) or (allowed and value not in allowed):
                raise RuleError(f"dimensi '{kw.arg}' atau nilainya tidak dikenal dataset ini.")
        return "num"


class Compiler:
    """SQL for a checked rule over row alias ``i``; texts and names go in as parameters.

    ``lookup(Lookup, params)`` returns the SQL of a value from another row: the caller decides
    where other rows come from (the chunk being applied over the master, or the master only).
    """

    def __init__(self, params: list, lookup: Callable[[Lookup, list], str],
                 measures: set[str]):
        self.params, self.lookup, self.measures = params, lookup, measures

    def param(self, value) -> str:
        self.params.append(value)
        return f"${len(self.params)}"

    def sql(self, node: ast.AST) -> str:
        if isinstance(node, ast.Expression):
            return self.sql(node.body)
        if isinstance(node, ast.BoolOp):
            op = " AND " if isinstance(node.op, ast.And) else " OR "
            return "(" + op.join(self.sql(v) for v in node.values) + ")"
        if isinstance(node, ast.UnaryOp):
            return f"(NOT {self.sql(node.operand)})" if isinstance(node.op, ast.Not) \
                else f"(-{self.sql(node.operand)})"
        if isinstance(node, ast.Compare):
            parts, left = [], node.left
            for op, right in zip(node.ops, node.comparators):
                parts.append(f"({self.sql(left)} {COMPARE[type(op)]} {self.sql(right)})")
                left = right
            return "(" + " AND ".join(parts) + ")"
        if isinstance(node, ast.BinOp):
            left, right = self.sql(node.left), self.sql(node.right)
            if isinstance(node.op, ast.Div):
                return f"({left} / NULLIF({right}, 0))"
            return f"({left} {ARITH[type(node.op)]} {right})"
        if isinstance(node, ast.Constant):
            if isinstance(node.value, str):
                return f"{self.param(node.value)}::text"
            return f"{self.param(str(node.value))}::numeric"
        if isinstance(node, ast.Name):
            return self.value("i", node.id)
        return self._call(node)

    def value(self, alias: str, name: str) -> str:
        """A measure as numeric (NULL unless a JSON number) or a dimension as text."""
        key = self.param(name)
        return (f"(CASE WHEN jsonb_typeof({alias}.vals -> {key}::text) = 'number' "
                f"THEN ({alias}.vals ->> {key}::text)::numeric END)"
                if name in self.measures else f"({alias}.dims ->> {key}::text)")

    def _call(self, node: ast.Call) -> str:
        name = node.func.id  # checked by _Checker
        if name == "abs":
            return f"abs({self.sql(node.args[0])})"
        dims = {kw.arg: kw.value.value for kw in node.keywords}
        return self.lookup(Lookup(kind=name, measure=node.args[0].id, dims=dims), self.params)


def compile_rule(rule: Rule, measures: set[str], params: list,
                 lookup: Callable[[Lookup, list], str]) -> str:
    """The rule as a SQL boolean over row ``i``; NULL (a value missing) means it passes."""
    return Compiler(params, lookup, measures).sql(rule.tree)


def numeric_measures(schema: DatasetSchemaV1) -> set[str]:
    return {m.name for m in schema.numeric_measures if NAME.match(m.name)}


def dimension_values(schema: DatasetSchemaV1) -> dict[str, set[str]]:
    return {d.name: set(d.values) for d in schema.dimensions}


def parse_for(dataset: dict, expression: str) -> Rule:
    """``expression`` parsed against the dataset's measures and dimension values."""
    schema = dataset["schema"]
    return parse(expression, measures=numeric_measures(schema),
                 dimensions=dimension_values(schema))
