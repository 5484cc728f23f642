"""Bug injection: AST mutations of a reference solution.

Each operator family names a kind of bug a programmer (or a model) makes. A mutant
is kept as a *hidden bug* only when execution shows it passes every visible test
and fails at least one hidden input (see :mod:`tasks.build`); this module only
proposes mutants. The :data:`FAMILIES` are single-site syntactic edits; the opt-in
:data:`SEMANTIC_FAMILIES` (``propose_mutants(..., semantic=True)``) are bugs of
meaning: a dropped special case, a wrong variable, an early return, a wrong
accumulator start, and two edits at once.
"""

from __future__ import annotations

import ast
import builtins
import copy
import difflib
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

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
SEMANTIC_FAMILIES = (
    "removed_special_case",
    "wrong_variable",
    "early_return",
    "accumulator_init",
    "multi_site",
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


def _sites(node: ast.AST) -> Iterator[tuple[str, str, tuple[Any, ...]]]:
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


# --- semantic operators (opt-in) ---------------------------------------------------------------------------------

_Edit = tuple[int, tuple[Any, ...]]  # (index into the mutable nodes, edit)
_Site = tuple[str, str, tuple[_Edit, ...], tuple[int, ...]]  # family, operator, edits, singles it is made of
_BUILTINS = frozenset(dir(builtins))
_FUNCS = (ast.FunctionDef, ast.AsyncFunctionDef)
_INNER_SCOPES = (ast.Lambda, ast.ClassDef, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
_LOOPS = (ast.For, ast.AsyncFor, ast.While)
_EXITS = (ast.Return, ast.Continue, ast.Break, ast.Raise)
_GROWERS = frozenset({"append", "add", "extend", "update", "insert", "appendleft", "setdefault"})
_MAX_PAIRS = 64


def _scope_of(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> ast.AST | None:
    """The function (or module) whose local ``node`` reads; None inside a lambda, class or comprehension."""
    cur = parents.get(node)
    while cur is not None:
        if isinstance(cur, (*_FUNCS, ast.Module)):
            return cur
        if isinstance(cur, _INNER_SCOPES):
            return None
        cur = parents.get(cur)
    return None


_KIND_NAMES = {"int": "num", "float": "num", "bool": "bool", "str": "str", "list": "seq", "dict": "seq", "set": "seq",
               "tuple": "seq", "List": "seq", "Dict": "seq", "Set": "seq", "Tuple": "seq", "sorted": "seq"}


def _kind(node: ast.AST | None) -> str:
    """Rough type of a value or annotation: ``num``, ``bool``, ``str``, ``seq`` or ``?``."""
    if node is None:
        return "?"
    if isinstance(node, ast.Constant):
        if type(node.value) is bool:
            return "bool"
        return "str" if isinstance(node.value, str) else "num" if _number(node) is not None else "?"
    if _number(node) is not None:
        return "num"
    if isinstance(node, (ast.List, ast.Tuple, ast.Dict, ast.Set, ast.ListComp, ast.SetComp, ast.DictComp)):
        return "seq"
    if isinstance(node, ast.Subscript):  # an annotation such as list[int]
        return _kind(node.value) if _kind(node.value) == "seq" else "?"
    name = node.func if isinstance(node, ast.Call) else node
    return _KIND_NAMES.get(name.id, "?") if isinstance(name, ast.Name) else "?"


def _bindings(scope: ast.AST) -> dict[str, tuple[int, str]]:
    """Local variables of a function (or module): the first line binding each (parameters: the ``def``'s) and
    their rough kind (see :func:`_kind`: the one its bindings of known kind agree on, else ``?``)."""
    bound: dict[str, tuple[int, str]] = {}

    def bind(name: str, line: int, kind: str) -> None:
        if name in bound:
            old_line, old_kind = bound[name]
            merged = kind if old_kind == "?" else old_kind if kind in ("?", old_kind) else "?"
            bound[name] = (min(line, old_line), merged)
        else:
            bound[name] = (line, kind)

    if isinstance(scope, _FUNCS):
        a = scope.args
        for arg in [*a.posonlyargs, *a.args, *a.kwonlyargs, *(x for x in (a.vararg, a.kwarg) if x is not None)]:
            bind(arg.arg, scope.lineno, "?" if arg in (a.vararg, a.kwarg) else _kind(arg.annotation))
    excluded: set[str] = set()
    stack: list[ast.AST] = list(getattr(scope, "body", []))
    while stack:
        n = stack.pop()
        if isinstance(n, (ast.Global, ast.Nonlocal)):
            excluded.update(n.names)
        elif isinstance(n, (*_FUNCS, ast.ClassDef)):
            excluded.add(n.name)
            continue
        elif isinstance(n, (ast.Import, ast.ImportFrom)):
            excluded.update(al.asname or al.name.split(".")[0] for al in n.names)
        elif isinstance(n, _INNER_SCOPES):
            continue
        elif isinstance(n, ast.Assign) and len(n.targets) == 1 and isinstance(n.targets[0], ast.Name):
            bind(n.targets[0].id, n.lineno, _kind(n.value))
            stack.append(n.value)
            continue
        elif isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store):
            bind(n.id, n.lineno, "?")
        stack.extend(ast.iter_child_nodes(n))
    return {k: v for k, v in bound.items() if k not in excluded and k not in _BUILTINS and not k.startswith("__")}


def _context_kind(node: ast.AST, parents: dict[ast.AST, ast.AST], bound: dict[str, tuple[int, str]]) -> str:
    """Rough kind of what ``node`` is compared or computed with (a literal or a local of known kind), else ``?``."""
    parent = parents.get(node)
    if isinstance(parent, ast.Compare):
        others = [x for x in [parent.left, *parent.comparators] if x is not node]
    elif isinstance(parent, ast.BinOp):
        others = [parent.right if parent.left is node else parent.left]
    else:
        return "?"
    for x in others:
        k = bound.get(x.id, (0, "?"))[1] if isinstance(x, ast.Name) else _kind(x)
        if k != "?":
            return k
    return "?"


def _kinds_mix(a: str, b: str) -> bool:
    """Whether values of rough kinds ``a`` and ``b`` could stand for each other (a flag mixes with a count)."""
    a, b = ("num" if a == "bool" else a), ("num" if b == "bool" else b)
    return a == b or "?" in (a, b)


def _test_names(nodes: list[ast.AST]) -> set[int]:
    """ids of the variables read in a condition (``if``/``while``/ternary test) or a comparison."""
    out: set[int] = set()
    stack: list[ast.AST] = []
    for n in nodes:
        if isinstance(n, (ast.If, ast.While, ast.IfExp)):
            stack.append(n.test)
        elif isinstance(n, ast.Compare):
            stack.append(n)
    while stack:
        n = stack.pop()
        if isinstance(n, _INNER_SCOPES):
            continue
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load):
            out.add(id(n))
        elif isinstance(n, ast.Call):
            stack.extend(x for x in ast.iter_child_nodes(n) if x is not n.func or not isinstance(x, ast.Name))
            continue
        stack.extend(ast.iter_child_nodes(n))
    return out


def _siblings(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> tuple[list[Any], int] | None:
    """The statement list holding ``node`` and its position there."""
    parent = parents.get(node)
    if parent is None:
        return None
    for _field, value in ast.iter_fields(parent):
        if isinstance(value, list):
            for i, item in enumerate(value):
                if item is node:
                    return value, i
    return None


def _return_after(loop: ast.AST, scope: ast.AST, parents: dict[ast.AST, ast.AST]) -> ast.Return | None:
    """The first ``return <expr>`` that follows ``loop`` in its function (in its block or an enclosing one)."""
    cur = loop
    while cur is not scope:
        where = _siblings(cur, parents)
        if where is not None:
            for stmt in where[0][where[1] + 1:]:
                if isinstance(stmt, ast.Return) and stmt.value is not None:
                    return stmt
        nxt = parents.get(cur)
        if nxt is None:
            return None
        cur = nxt
    return None


def _number(node: ast.AST) -> float | None:
    """Value of a numeric literal (``-1``, ``0.5``, ``float('inf')``, ``math.inf``), else None."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        v = _number(node.operand)
        return None if v is None else -v
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        try:
            return float(node.value)
        except OverflowError:
            return None
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "float" and len(node.args) == 1 \
            and not node.keywords and isinstance(node.args[0], ast.Constant):
        text = node.args[0].value
        if isinstance(text, str) and text.strip().lower().lstrip("+-") in ("inf", "infinity"):
            return float(text)
    if isinstance(node, ast.Attribute) and node.attr == "inf" and isinstance(node.value, ast.Name) and node.value.id == "math":
        return float("inf")
    return None


def _wrong_init(value: ast.expr) -> tuple[str, ast.expr] | None:
    """(what, replacement) for an accumulator's initial value, or None when it is not a simple start value."""
    if isinstance(value, ast.Constant) and type(value.value) is bool:
        return "flip", ast.Constant(not value.value)
    if isinstance(value, ast.Constant) and type(value.value) is str:
        return ("empty", ast.Constant("")) if value.value else ("space", ast.Constant(" "))
    num = _number(value)
    if num is not None:
        lit = value.operand if isinstance(value, ast.UnaryOp) else value
        is_int = isinstance(lit, ast.Constant) and type(lit.value) is int
        if num == 0:
            return "one", ast.Constant(1 if is_int else 1.0)
        return "zero", ast.Constant(0 if is_int or math.isinf(num) else 0.0)
    zero = ast.Constant(0)
    if isinstance(value, ast.List) and not value.elts:
        return "nonempty", ast.List([zero], ast.Load())
    if isinstance(value, ast.Tuple) and not value.elts:
        return "nonempty", ast.Tuple([zero], ast.Load())
    if isinstance(value, ast.Dict) and not value.keys:
        return "nonempty", ast.Dict([zero], [ast.Constant(0)])
    if isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and not value.args and not value.keywords:
        made = {"list": ast.List([zero], ast.Load()), "set": ast.Set([zero]), "tuple": ast.Tuple([zero], ast.Load()),
                "dict": ast.Dict([zero], [ast.Constant(0)])}.get(value.func.id)
        if made is not None:
            return "nonempty", made
    return None


def _updates(loop: ast.AST, name: str) -> bool:
    """Whether ``loop`` accumulates into ``name``: ``x += ...``, ``x.append(...)``, ``x[k] = ...``, or it both
    assigns and reads ``x`` (``x = x * 2``, ``if v < x: x = v``)."""
    def is_name(t: ast.AST) -> bool:
        return isinstance(t, ast.Name) and t.id == name

    stored = read = False
    for n in ast.walk(loop):
        if isinstance(n, ast.AugAssign) and (is_name(n.target) or (isinstance(n.target, ast.Subscript) and is_name(n.target.value))):
            return True
        if isinstance(n, ast.Assign) and any(isinstance(t, ast.Subscript) and is_name(t.value) for t in n.targets):
            return True
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr in _GROWERS and is_name(n.func.value):
            return True
        if isinstance(n, ast.Name) and n.id == name:
            stored |= isinstance(n.ctx, ast.Store)
            read |= isinstance(n.ctx, ast.Load)
    return stored and read


def _semantic_sites(tree: ast.Module, nodes: list[ast.AST], protected: set[str]) -> list[tuple[int, str, str, tuple[Any, ...]]]:
    """(node index, family, operator, edit) of the semantic single-site operators, in node order."""
    parents = {child: parent for parent in ast.walk(tree) for child in ast.iter_child_nodes(parent)}
    index = {id(n): i for i, n in enumerate(nodes)}
    tested = _test_names(nodes)
    scopes: dict[int, dict[str, tuple[int, str]]] = {}
    out: list[tuple[int, str, str, tuple[Any, ...]]] = []
    for idx, node in enumerate(nodes):
        if isinstance(node, ast.If) and not node.orelse and node.body and isinstance(node.body[-1], _EXITS) \
                and not _main_guard(node.test):
            out.append((idx, "removed_special_case", "drop_guard", ("drop_guard",)))
        elif isinstance(node, ast.Name) and id(node) in tested and node.id not in protected and node.id not in ("self", "cls"):
            scope = _scope_of(node, parents)
            if scope is None:
                continue
            if id(scope) not in scopes:
                scopes[id(scope)] = _bindings(scope)
            bound = scopes[id(scope)]
            if node.id not in bound:
                continue
            kind = bound[node.id][1]
            if kind == "?":
                kind = _context_kind(node, parents, bound)
            near = sorted((-line, name) for name, (line, k) in bound.items()
                          if name != node.id and line < node.lineno and name not in protected
                          and name not in ("self", "cls") and _kinds_mix(kind, k))
            for _line, new in near[:2]:
                out.append((idx, "wrong_variable", f"swap_name:{node.id}->{new}", ("swap_name", new)))
        elif isinstance(node, _LOOPS) and node.body and not isinstance(node.body[-1], _EXITS):
            scope = _scope_of(node, parents)
            ret = _return_after(node, scope, parents) if isinstance(scope, _FUNCS) else None
            if ret is not None and id(ret) in index:
                out.append((idx, "early_return", "return_in_loop", ("return_in_loop", index[id(ret)])))
        elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            wrong = _wrong_init(node.value)
            where = _siblings(node, parents)
            if wrong is None or where is None:
                continue
            block, pos = where
            after = pos + 1
            while after < len(block) and isinstance(block[after], ast.Assign):
                after += 1
            if after < len(block) and isinstance(block[after], _LOOPS) and _updates(block[after], node.targets[0].id):
                out.append((idx, "accumulator_init", f"init_{wrong[0]}", ("init", wrong[1])))
    return out


def _apply_edit(nodes: list[ast.AST], idx: int, edit: tuple[Any, ...], parents: dict[ast.AST, ast.AST]) -> bool:
    """Apply one edit (ordinary or semantic) to ``nodes[idx]``; False when it cannot be applied."""
    node = nodes[idx]
    kind = edit[0]
    if kind == "drop_guard":
        return _remove_stmt(node, parents)
    if kind == "swap_name":
        node.id = edit[1]  # type: ignore[attr-defined]
        return True
    if kind == "return_in_loop":
        node.body.append(copy.deepcopy(nodes[edit[1]]))  # type: ignore[attr-defined]
        return True
    if kind == "init":
        node.value = copy.deepcopy(edit[1])  # type: ignore[attr-defined]
        return True
    return _apply(node, edit, parents)


def _same_constant_edit(singles: list[_Site], nodes: list[ast.AST], index: dict[int, int], idx: int,
                        edit: tuple[Any, ...]) -> int | None:
    """Position in ``singles`` of the ``constant`` site that makes the same program as an ``init`` edit, if any."""
    if edit[0] != "init" or not isinstance(edit[1], ast.Constant):
        return None
    value = getattr(nodes[idx], "value", None)
    j = index.get(id(value))
    if j is None or not isinstance(value, ast.Constant):
        return None
    new = edit[1].value
    for k, (family, _operator, edits, _parts) in enumerate(singles):
        if family == "constant" and len(edits) == 1 and edits[0][0] == j and edits[0][1][0] == "const":
            old = edits[0][1][1]
            if type(old) is type(new) and old == new:
                return k
    return None


def _lineage(tree: ast.Module) -> dict[int, set[int]]:
    """id of each node -> ids of the node and its ancestors."""
    out: dict[int, set[int]] = {id(tree): {id(tree)}}
    stack: list[ast.AST] = [tree]
    while stack:
        parent = stack.pop()
        for child in ast.iter_child_nodes(parent):
            out[id(child)] = out[id(parent)] | {id(child)}
            stack.append(child)
    return out


def _pairs(singles: list[_Site], nodes: list[ast.AST], tree: ast.Module, rng: random.Random) -> list[_Site]:
    """Multi-site mutants: seeded pairs of single sites at unrelated nodes (neither inside the other)."""
    n = len(singles)
    if n < 2:
        return []
    lineage = _lineage(tree)
    want = min(_MAX_PAIRS, max(1, n // 3))
    chosen: set[tuple[int, int]] = set()
    out: list[_Site] = []
    for _ in range(want * 10):
        if len(out) >= want:
            break
        i, j = rng.randrange(n), rng.randrange(n)
        a, b = nodes[singles[i][2][0][0]], nodes[singles[j][2][0][0]]
        if id(a) in lineage.get(id(b), {id(b)}) or id(b) in lineage.get(id(a), {id(a)}):
            continue
        if (getattr(b, "lineno", 0), getattr(b, "col_offset", 0), j) < (getattr(a, "lineno", 0), getattr(a, "col_offset", 0), i):
            i, j = j, i
        if (i, j) in chosen:
            continue
        chosen.add((i, j))
        fa, fb = singles[i], singles[j]
        out.append(("multi_site", f"{fa[1]}+{fb[1]}", fa[2] + fb[2], (i, j)))
    return out


def propose_mutants(code: str, entry_point: str, protected: set[str], rng: random.Random,
                    limit: int | None = None, whole_module: bool = False, semantic: bool = False) -> list[Mutant]:
    """Mutants of ``code`` (already normalised), deduplicated, in a seeded order.

    Args:
        code: normalised reference program.
        entry_point: the function under test.
        protected: names of functions given by the prompt (never mutated).
        rng: seeded generator for the sampling order.
        limit: keep at most this many distinct mutants.
        whole_module: mutate the whole module (program tasks), not only the solution's functions.
        semantic: also propose the :data:`SEMANTIC_FAMILIES` (shuffled in with the single-site ones); off, the
            result (and the use of ``rng``) is exactly that of the single-site operators alone.

    Returns:
        Mutants that compile and differ from ``code`` and from each other.
    """
    tree = ast.parse(code)
    nodes = _entry_nodes(tree, entry_point, protected, whole_module)
    singles: list[_Site] = []
    for idx, node in enumerate(nodes):
        for family, operator, edit in _sites(node):
            singles.append((family, operator, ((idx, edit),), (len(singles),)))
    sites = list(singles)
    if semantic:
        try:
            extra = _semantic_sites(tree, nodes, protected)
        except Exception:  # noqa: BLE001 - an input the semantic operators cannot read gets none of them
            extra = []
        index = {id(n): i for i, n in enumerate(nodes)}
        for idx, family, operator, edit in extra:
            same = _same_constant_edit(singles, nodes, index, idx, edit)
            if same is not None:  # the constant family makes this very program: give it the specific label
                singles[same] = (family, operator, singles[same][2], singles[same][3])
                continue
            singles.append((family, operator, ((idx, edit),), (len(singles),)))
        sites = singles + _pairs(singles, nodes, tree, rng)
    rng.shuffle(sites)

    rendered: dict[int, str | None] = {}

    def render(edits: tuple[_Edit, ...]) -> str | None:
        try:
            t = copy.deepcopy(tree)
            t_nodes = _entry_nodes(t, entry_point, protected, whole_module)
            parents = {child: parent for parent in ast.walk(t) for child in ast.iter_child_nodes(parent)}
            for idx, edit in edits:
                if not _apply_edit(t_nodes, idx, edit, parents):
                    return None
            ast.fix_missing_locations(t)
            new = normalise(ast.unparse(t))
            compile(new, "<mutant>", "exec")
        except Exception:  # noqa: BLE001 - an edit that does not make a program is skipped
            return None
        return new

    def single(k: int) -> str | None:
        if k not in rendered:
            rendered[k] = render(singles[k][2])
        return rendered[k]

    seen = {code}
    out: list[Mutant] = []
    for family, operator, edits, parts in sites:
        new = single(parts[0]) if len(parts) == 1 else render(edits)
        if new is None or new in seen:
            continue
        if len(parts) > 1 and any(single(k) in (None, code, new) for k in parts):
            continue  # each edit must change the program by itself, or this is not a two-site mutant
        seen.add(new)
        out.append(Mutant(new, family, operator, changed_lines(code, new)))
        if limit is not None and len(out) >= limit:
            break
    return out
