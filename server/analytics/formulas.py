"""KPI formulas, written once as text in the registry and compiled here for Python; the SQL
compiler (grafana/generator/sql.py) reads the same text.

A formula is an arithmetic expression over metric names and numbers (+ - * /). Every division by
zero gives None (JSON null; NULL in SQL, where every division is by nullIf(denominator, 0)), and
None propagates: never a made-up 0 or inf. A job outcome condition is comparisons of metric names
with numbers joined by AND (SQL spelling, `=` for equality).
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable, Mapping

Totals = Mapping[str, float]
Formula = Callable[[Totals], float | None]

_ARITHMETIC = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul}
_COMPARE = {
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Eq: operator.eq,
}


def parse(text: str, allowed: tuple[str, ...]) -> ast.expr:
    """The formula's expression tree; ValueError when it names a metric outside `allowed` or uses
    anything but names, numbers and + - * /."""
    tree = ast.parse(text, mode="eval").body
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id not in allowed:
            raise ValueError(f"formula names {node.id!r}, which is not one of its metrics {allowed}")
    return tree


def compile_formula(text: str, allowed: tuple[str, ...]) -> Formula:
    return _compile(parse(text, allowed))


def _compile(node: ast.AST) -> Formula:
    if isinstance(node, ast.Name):
        return operator.itemgetter(node.id)
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
        value = node.value
        return lambda _totals: value
    if isinstance(node, ast.BinOp):
        left, right = _compile(node.left), _compile(node.right)
        if isinstance(node.op, ast.Div):
            return lambda totals: _divide(left(totals), right(totals))
        if type(node.op) in _ARITHMETIC:
            op = _ARITHMETIC[type(node.op)]
            return lambda totals: _apply(op, left(totals), right(totals))
    raise ValueError(f"unsupported formula element {ast.dump(node)}")


def _divide(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or not denominator:
        return None
    return numerator / denominator


def _apply(op: Callable[[float, float], float], left: float | None, right: float | None) -> float | None:
    return None if left is None or right is None else op(left, right)


def python_condition(text: str) -> str:
    """A job outcome condition in Python's spelling (`AND` -> `and`, `=` -> `==`)."""
    return text.replace(" AND ", " and ").replace(" = ", " == ")


def compile_condition(text: str, allowed: tuple[str, ...]) -> Callable[[Totals], bool]:
    """`a > 0 AND b = 0` -> a predicate on metric totals."""
    tree = parse(python_condition(text), allowed)
    parts = tree.values if isinstance(tree, ast.BoolOp) and isinstance(tree.op, ast.And) else [tree]
    checks = []
    for part in parts:
        if not (isinstance(part, ast.Compare) and len(part.ops) == 1 and type(part.ops[0]) in _COMPARE):
            raise ValueError(f"unsupported condition {ast.dump(part)}")
        checks.append((_compile(part.left), _COMPARE[type(part.ops[0])], _compile(part.comparators[0])))
    return lambda totals: all(op(left(totals), right(totals)) for left, op, right in checks)


def ratio(numerator: float, denominator: float, scale: float = 1.0) -> float | None:
    """scale * numerator / denominator, or None when the denominator is 0 (for the measures'
    averages, which are not registry KPIs)."""
    if not denominator:
        return None
    return scale * numerator / denominator
