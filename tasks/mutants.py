"""Bug injection: single-site AST mutations of a reference solution.

Each operator family names a kind of bug a programmer (or a model) makes. A mutant
is kept as a *hidden bug* only when execution shows it passes every visible test
and fails at least one hidden input (see :mod:`tasks.build`); this module only
proposes mutants.
"""

from __future__ import annotations

import ast
import copy
import difflib
import random
from collections.abc import Iterator
from dataclasses import dataclass

from tasks.rewrites import normalise

FAMILIES = (
    "comparison",
    "arithmetic",
    "boundary",
    "constant",
    "boolean",
    "slice_index",
    "return_value",
    "remove_statement",
    "swap_arguments",
)

_CMP_SWAPS: dict[type, tuple[type, ...]] = {
    ast.Lt: (ast.LtE, ast.Gt), ast.LtE: (ast.Lt, ast.GtE), ast.Gt: (ast.GtE, ast.Lt), ast.GtE: (ast.Gt, ast.LtE),
    ast.Eq: (ast.NotEq,), ast.NotEq: (ast.Eq,), ast.In: (ast.NotIn,), ast.NotIn: (ast.In,),
    ast.Is: (ast.IsNot,), ast.IsNot: (ast.Is,),
}
_ARITH_SWAPS: dict[type, tuple[type, ...]] = {
    ast.Add: (ast.Sub,), ast.Sub: (ast.Add,), ast.Mult: (ast.FloorDiv, ast.Add), ast.Div: (ast.Mult, ast.FloorDiv),
    ast.FloorDiv: (ast.Div, ast.Mod), ast.Mod: (ast.FloorDiv,), ast.Pow: (ast.Mult,),
    ast.BitAnd: (ast.BitOr,), ast.BitOr: (ast.BitAnd,), ast.LShift: (ast.RShift,), ast.RShift: (ast.LShift,),
}


@dataclass(frozen=True)
class Mutant:
    """A proposed mutant: full program text, operator, and the lines it changed."""

    code: str
    family: str
    operator: str
    changed_lines: tuple[int, ...]


def _main_guard(node: ast.AST) -> bool:
    """``__name__ == "__main__"``-style tests (never mutated: that only stops a program from running)."""
    return isinstance(node, ast.Compare) and any(isinstance(n, ast.Name) and n.id == "__name__" for n in ast.walk(node))


def _module_nodes(tree: ast.Module) -> list[ast.AST]:
    """Every node of a program (module-level code and its functions), but its ``__main__`` guard."""
    skip: set[int] = set()
    for n in ast.walk(tree):
        if _main_guard(n):
            skip.update(id(x) for x in ast.walk(n))
    return [n for stmt in tree.body for n in ast.walk(stmt) if id(n) not in skip]


def _entry_nodes(tree: ast.Module, entry_point: str, protected: set[str], whole_module: bool = False) -> list[ast.AST]:
    """Nodes that may be mutated: inside the solution's functions, not the prompt's helpers
    (``whole_module``: a program's every statement)."""
    if whole_module:
        return _module_nodes(tree)
    roots = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name not in protected]
    if not roots:
        roots = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == entry_point]
    nodes: list[ast.AST] = []
    for root in roots:
        for stmt in root.body:
            nodes.extend(ast.walk(stmt))
    return nodes


def _int_const(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and type(node.value) is int


def _plus(node: ast.expr, k: int) -> ast.expr:
    """``node + k`` with constants folded (``n - 1`` plus 1 is ``n``, not ``n - 1 + 1``)."""
    if _int_const(node):
        return ast.Constant(node.value + k)  # type: ignore[attr-defined]
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub)) and _int_const(node.right):
        inner = node.right.value if isinstance(node.op, ast.Add) else -node.right.value  # type: ignore[attr-defined]
        total = inner + k
        if total == 0:
            return copy.deepcopy(node.left)
        return ast.BinOp(copy.deepcopy(node.left), ast.Add() if total > 0 else ast.Sub(), ast.Constant(abs(total)))
    return ast.BinOp(left=copy.deepcopy(node), op=ast.Add() if k > 0 else ast.Sub(), right=ast.Constant(abs(k)))


def _sites(node: ast.AST) -> Iterator[tuple[str, str, object]]:
    """(family, operator, edit) for each mutation of ``node``; ``edit`` is applied by :func:`_apply`."""
    if isinstance(node, ast.Compare):
        for i, op in enumerate(node.ops):
            for new in _CMP_SWAPS.get(type(op), ()):
                yield "comparison", f"{type(op).__name__}->{new.__name__}", ("cmpop", i, new)
        if len(node.ops) == 1 and isinstance(node.ops[0], (ast.Lt, ast.LtE, ast.Gt, ast.GtE)):
            for k in (1, -1):
                yield "boundary", f"compare_bound{k:+d}", ("cmp_right", k)
    elif isinstance(node, ast.BinOp):
        for new in _ARITH_SWAPS.get(type(node.op), ()):
            yield "arithmetic", f"{type(node.op).__name__}->{new.__name__}", ("binop", new)
        if isinstance(node.op, (ast.Sub, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow)):
            yield "swap_arguments", "swap_operands", ("swap_operands",)
    elif isinstance(node, ast.AugAssign):
        for new in _ARITH_SWAPS.get(type(node.op), ()):
            yield "arithmetic", f"aug_{type(node.op).__name__}->{new.__name__}", ("augop", new)
    elif isinstance(node, ast.BoolOp):
        yield "boolean", "and<->or", ("boolop",)
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        yield "boolean", "drop_not", ("drop_not",)
    elif isinstance(node, ast.If):
        yield "boolean", "negate_if", ("negate_if",)
        if node.orelse:
            yield "remove_statement", "drop_else", ("drop_else",)
    elif isinstance(node, ast.Constant):
        v = node.value
        if type(v) is bool:
            yield "constant", "flip_bool", ("const", not v)
        elif type(v) is int:
            for new_int in sorted({v + 1, v - 1, 0 if v != 0 else 2}):
                yield "constant", f"int_{'inc' if new_int == v + 1 else 'dec' if new_int == v - 1 else 'zero'}", ("const", new_int)
        elif type(v) is float:
            yield "constant", "float_shift", ("const", v + 1.0 if abs(v) >= 1 else (v * 10 if v else 1.0))
        elif type(v) is str and len(v) <= 40:
            yield "constant", "str_empty" if v else "str_space", ("const", "" if v else " ")
    elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "range":
        for k in (1, -1):
            yield "boundary", f"range_end{k:+d}", ("range_end", k)
        if len(node.args) >= 2:
            yield "boundary", "range_start+1", ("range_start", 1)
    elif isinstance(node, ast.Subscript):
        sl = node.slice
        if isinstance(sl, ast.Slice):
            if sl.lower is not None:
                yield "slice_index", "slice_lower+1", ("slice", "lower", 1)
                yield "slice_index", "slice_drop_lower", ("slice_drop", "lower")
            if sl.upper is not None:
                yield "slice_index", "slice_upper-1", ("slice", "upper", -1)
                yield "slice_index", "slice_drop_upper", ("slice_drop", "upper")
            if sl.step is not None:
                yield "slice_index", "slice_drop_step", ("slice_drop", "step")
        elif not isinstance(sl, ast.Tuple) and isinstance(node.ctx, ast.Load):
            for k in (1, -1):
                yield "slice_index", f"index{k:+d}", ("index", k)
    elif isinstance(node, ast.Return) and node.value is not None:
        val = node.value
        if isinstance(val, (ast.Compare, ast.BoolOp)) or (isinstance(val, ast.Call) and getattr(val.func, "id", "") in ("all", "any", "bool")):
            yield "return_value", "return_negated", ("return_not",)
        elif isinstance(val, (ast.Name, ast.Subscript, ast.Call, ast.BinOp)):
            yield "return_value", "return_reversed_or_bumped", ("return_alt",)
    if isinstance(node, ast.Call) and len(node.args) >= 2 and not any(isinstance(a, ast.Starred) for a in node.args):
        yield "swap_arguments", "swap_call_args", ("swap_args",)
    if isinstance(node, (ast.Break, ast.Continue)):
        yield "remove_statement", f"drop_{type(node).__name__.lower()}", ("drop_stmt",)
    if isinstance(node, (ast.Assign, ast.AugAssign, ast.Expr)) and not (
        isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
    ):
        yield "remove_statement", "drop_statement", ("drop_stmt",)


def _apply(node: ast.AST, edit: tuple, parents: dict[ast.AST, ast.AST]) -> bool:
    kind = edit[0]
    if kind == "cmpop":
        node.ops[edit[1]] = edit[2]()  # type: ignore[attr-defined]
    elif kind == "cmp_right":
        node.comparators[0] = _plus(node.comparators[0], edit[1])  # type: ignore[attr-defined]
    elif kind == "binop":
        node.op = edit[1]()  # type: ignore[attr-defined]
    elif kind == "augop":
        node.op = edit[1]()  # type: ignore[attr-defined]
    elif kind == "swap_operands":
        node.left, node.right = node.right, node.left  # type: ignore[attr-defined]
    elif kind == "boolop":
        node.op = ast.Or() if isinstance(node.op, ast.And) else ast.And()  # type: ignore[attr-defined]
    elif kind == "drop_not":
        return _replace(node, node.operand, parents)  # type: ignore[attr-defined]
    elif kind == "negate_if":
        test = node.test  # type: ignore[attr-defined]
        if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
            node.test = test.operand  # type: ignore[attr-defined]
        else:
            node.test = ast.UnaryOp(op=ast.Not(), operand=test)  # type: ignore[attr-defined]
    elif kind == "drop_else":
        node.orelse = []  # type: ignore[attr-defined]
    elif kind == "const":
        node.value = edit[1]  # type: ignore[attr-defined]
    elif kind == "range_end":
        args = node.args  # type: ignore[attr-defined]
        idx = 0 if len(args) == 1 else 1
        args[idx] = _plus(args[idx], edit[1])
    elif kind == "range_start":
        node.args[0] = _plus(node.args[0], edit[1])  # type: ignore[attr-defined]
    elif kind == "slice":
        sl = node.slice  # type: ignore[attr-defined]
        setattr(sl, edit[1], _plus(getattr(sl, edit[1]), edit[2]))
    elif kind == "slice_drop":
        setattr(node.slice, edit[1], None)  # type: ignore[attr-defined]
    elif kind == "index":
        node.slice = _plus(node.slice, edit[1])  # type: ignore[attr-defined]
    elif kind == "return_not":
        node.value = ast.UnaryOp(op=ast.Not(), operand=node.value)  # type: ignore[attr-defined]
    elif kind == "return_alt":
        val = node.value  # type: ignore[attr-defined]
        if _numeric_hint(val):
            node.value = ast.BinOp(copy.deepcopy(val), ast.Add(), ast.Constant(1))  # type: ignore[attr-defined]
        else:
            node.value = ast.Subscript(copy.deepcopy(val), ast.Slice(step=ast.Constant(-1)), ast.Load())  # type: ignore[attr-defined]
    elif kind == "swap_args":
        args = node.args  # type: ignore[attr-defined]
        args[0], args[1] = args[1], args[0]
    elif kind == "drop_stmt":
        return _remove_stmt(node, parents)
    return True


def _numeric_hint(val: ast.AST) -> bool:
    return isinstance(val, ast.BinOp) or (isinstance(val, ast.Call) and getattr(val.func, "id", "") in ("len", "sum", "int", "abs", "max", "min", "round", "float"))


def _replace(node: ast.AST, new: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    parent = parents.get(node)
    if parent is None:
        return False
    for field, value in ast.iter_fields(parent):
        if value is node:
            setattr(parent, field, new)
            return True
        if isinstance(value, list):
            for i, item in enumerate(value):
                if item is node:
                    value[i] = new
                    return True
    return False


def _remove_stmt(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    parent = parents.get(node)
    if parent is None:
        return False
    for _field, value in ast.iter_fields(parent):
        if isinstance(value, list) and node in value:
            if len(value) == 1:
                return False  # a lone `pass` would give the mutant away
            value.remove(node)
            return True
    return False


def changed_lines(before: str, after: str) -> tuple[int, ...]:
    """1-based line numbers of ``after`` that differ from ``before``."""
    out: list[int] = []
    sm = difflib.SequenceMatcher(a=before.splitlines(), b=after.splitlines(), autojunk=False)
    for tag, _i1, _i2, j1, j2 in sm.get_opcodes():
        if tag in ("replace", "insert"):
            out.extend(range(j1 + 1, j2 + 1))
        elif tag == "delete" and j1 >= 1:
            out.append(j1)  # the line before the deleted one
    return tuple(sorted(set(out)))


def propose_mutants(code: str, entry_point: str, protected: set[str], rng: random.Random,
                    limit: int | None = None, whole_module: bool = False) -> list[Mutant]:
    """Single-site mutants of ``code`` (already normalised), deduplicated, in a seeded order.

    Args:
        code: normalised reference program.
        entry_point: the function under test.
        protected: names of functions given by the prompt (never mutated).
        rng: seeded generator for the sampling order.
        limit: keep at most this many distinct mutants.
        whole_module: mutate the whole module (program tasks), not only the solution's functions.
    """
    tree = ast.parse(code)
    sites: list[tuple[int, str, str, object]] = []
    for idx, node in enumerate(_entry_nodes(tree, entry_point, protected, whole_module)):
        for family, operator, edit in _sites(node):
            sites.append((idx, family, operator, edit))
    rng.shuffle(sites)
    seen = {code}
    out: list[Mutant] = []
    for idx, family, operator, edit in sites:
        t = copy.deepcopy(tree)
        nodes = _entry_nodes(t, entry_point, protected, whole_module)
        parents = {child: parent for parent in ast.walk(t) for child in ast.iter_child_nodes(parent)}
        try:
            if not _apply(nodes[idx], edit, parents):  # type: ignore[arg-type]
                continue
            ast.fix_missing_locations(t)
            new = normalise(ast.unparse(t))
            compile(new, "<mutant>", "exec")
        except Exception:  # noqa: BLE001 - an edit that does not make a program is skipped
            continue
        if new in seen:
            continue
        seen.add(new)
        out.append(Mutant(new, family, operator, changed_lines(code, new)))
        if limit is not None and len(out) >= limit:
            break
    return out
