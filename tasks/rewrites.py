"""Style normalisation and semantics-preserving rewrites.

Every candidate, buggy or correct, goes through the same pipeline: a random
subset of rewrites (drawn with the same probabilities for both labels), then
normalisation (docstrings and comments removed, one formatting by ``ast.unparse``).
So surface features do not give the label away; only the bug does. A rewrite is
only *proposed* here: the build keeps a rewritten correct candidate only after it
passes every hidden input in the sandbox.
"""

from __future__ import annotations

import ast
import builtins
import copy
import random
from collections.abc import Callable

REWRITE_FAMILIES = ("rename", "loop_to_comprehension", "comprehension_to_loop", "invert_if", "expand_augassign",
                    "mirror_compare", "shift_bound", "explicit_range_start")
_BUILTINS = set(dir(builtins))
_NAME_POOL = ("val", "item", "acc", "res", "tmp", "cur", "elem", "cnt", "idx", "buf", "part", "total", "out", "seen",
              "key", "num", "word", "ch", "k", "j")


def strip_docstrings(tree: ast.Module) -> ast.Module:
    """Remove every docstring (module, functions, classes)."""
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
                node.body = body[1:] or [ast.Pass()]
    return tree


def normalise(code: str) -> str:
    """Canonical text: no docstrings, no comments, ``ast.unparse`` formatting."""
    return ast.unparse(strip_docstrings(ast.parse(code)))


def _functions(tree: ast.Module, protected: set[str]) -> list[ast.FunctionDef]:
    return [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name not in protected]


def _rename(tree: ast.Module, protected: set[str], rng: random.Random) -> bool:
    changed = False
    top = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name not in protected]
    for fn in top:
        params = {a.arg for a in fn.args.args + fn.args.kwonlyargs + fn.args.posonlyargs}
        stored = []
        for node in ast.walk(fn):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store) and node.id not in params:
                stored.append(node.id)
        globals_used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
        nested = {n.name for n in ast.walk(fn) if isinstance(n, (ast.FunctionDef, ast.ClassDef)) and n is not fn}
        module_names = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
        module_names |= {t.id for n in tree.body if isinstance(n, ast.Assign) for t in n.targets if isinstance(t, ast.Name)}
        module_names |= {a.asname or a.name.split(".")[0] for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))
                         for a in n.names}
        locals_ = [v for v in dict.fromkeys(stored) if v not in nested and not v.startswith("_") and v not in module_names]
        if not locals_ or any(isinstance(n, (ast.Global, ast.Nonlocal)) for n in ast.walk(fn)):
            continue
        pool = [p for p in _NAME_POOL if p not in globals_used and p not in params and p not in _BUILTINS]
        rng.shuffle(pool)
        mapping = {}
        for old in locals_:
            if not pool:
                break
            if rng.random() < 0.6:
                mapping[old] = pool.pop()
        if not mapping:
            continue
        for node in ast.walk(fn):
            if isinstance(node, ast.Name) and node.id in mapping:
                node.id = mapping[node.id]
                changed = True
            elif isinstance(node, ast.arg) and node.arg in mapping:
                node.arg = mapping[node.arg]
                changed = True
    return changed


def _loop_to_comprehension(tree: ast.Module, protected: set[str], rng: random.Random) -> bool:
    """``acc = []`` + ``for x in xs: [if c:] acc.append(e)`` -> ``acc = [e for x in xs if c]``."""
    for fn in _functions(tree, protected):
        for parent in ast.walk(fn):
            body = getattr(parent, "body", None)
            if not isinstance(body, list):
                continue
            for i in range(len(body) - 1):
                init, loop = body[i], body[i + 1]
                if not (isinstance(init, ast.Assign) and len(init.targets) == 1 and isinstance(init.targets[0], ast.Name)
                        and isinstance(init.value, ast.List) and not init.value.elts):
                    continue
                if not isinstance(loop, ast.For) or loop.orelse or len(loop.body) != 1:
                    continue
                name = init.targets[0].id
                stmt, cond = loop.body[0], None
                if isinstance(stmt, ast.If) and not stmt.orelse and len(stmt.body) == 1:
                    cond, stmt = stmt.test, stmt.body[0]
                call = stmt.value if isinstance(stmt, ast.Expr) else None
                if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.func.attr == "append"
                        and isinstance(call.func.value, ast.Name) and call.func.value.id == name and len(call.args) == 1):
                    continue
                if any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(call.args[0])):
                    continue
                if cond is not None and any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(cond)):
                    continue
                if any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(loop.iter)):
                    continue
                loop_vars = {n.id for n in ast.walk(loop.target) if isinstance(n, ast.Name)}
                loop_nodes = set(map(id, ast.walk(loop)))
                if any(isinstance(n, ast.Name) and n.id in loop_vars and id(n) not in loop_nodes for n in ast.walk(fn)):
                    continue
                comp = ast.ListComp(elt=call.args[0], generators=[ast.comprehension(
                    target=loop.target, iter=loop.iter, ifs=[cond] if cond is not None else [], is_async=0)])
                init.value = comp
                del body[i + 1]
                return True
    return False


def _comprehension_to_loop(tree: ast.Module, protected: set[str], rng: random.Random) -> bool:
    """``name = [e for x in xs if c]`` -> an explicit loop with ``append``."""
    for fn in _functions(tree, protected):
        for parent in ast.walk(fn):
            body = getattr(parent, "body", None)
            if not isinstance(body, list):
                continue
            for i, stmt in enumerate(body):
                if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name)
                        and isinstance(stmt.value, ast.ListComp) and len(stmt.value.generators) == 1):
                    continue
                gen = stmt.value.generators[0]
                if gen.is_async:
                    continue
                name = stmt.targets[0].id
                if any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(stmt.value)):
                    continue
                # The loop variable leaks out of a for loop (not out of a comprehension).
                targets = {n.id for n in ast.walk(stmt.value.generators[0].target) if isinstance(n, ast.Name)}
                comp_nodes = set(map(id, ast.walk(stmt.value)))
                if any(isinstance(n, ast.Name) and n.id in targets and id(n) not in comp_nodes for n in ast.walk(fn)):
                    continue
                append: ast.stmt = ast.Expr(ast.Call(ast.Attribute(ast.Name(name, ast.Load()), "append", ast.Load()),
                                                     [stmt.value.elt], []))
                for cond in reversed(gen.ifs):
                    append = ast.If(test=cond, body=[append], orelse=[])
                loop = ast.For(target=gen.target, iter=gen.iter, body=[append], orelse=[])
                body[i:i + 1] = [ast.Assign(targets=[ast.Name(name, ast.Store())], value=ast.List([], ast.Load())), loop]
                return True
    return False


def _invert_if(tree: ast.Module, protected: set[str], rng: random.Random) -> bool:
    """``if c: A else: B`` -> ``if not c: B else: A`` (only with a real else branch)."""
    cands = [n for fn in _functions(tree, protected) for n in ast.walk(fn)
             if isinstance(n, ast.If) and n.orelse and not (len(n.orelse) == 1 and isinstance(n.orelse[0], ast.If))]
    if not cands:
        return False
    node = rng.choice(cands)
    test = node.test.operand if isinstance(node.test, ast.UnaryOp) and isinstance(node.test.op, ast.Not) else ast.UnaryOp(ast.Not(), node.test)
    node.test, node.body, node.orelse = test, node.orelse, node.body
    return True


def _expand_augassign(tree: ast.Module, protected: set[str], rng: random.Random) -> bool:
    """``x += e`` -> ``x = x + e`` for names that only hold ints (lists would change: ``+=`` extends in place)."""
    done = False
    for fn in _functions(tree, protected):
        ints = _int_names(fn)
        for parent in ast.walk(fn):
            for field in ("body", "orelse"):
                body = getattr(parent, field, None)
                if not isinstance(body, list):
                    continue
                for i, stmt in enumerate(body):
                    if (isinstance(stmt, ast.AugAssign) and isinstance(stmt.target, ast.Name)
                            and stmt.target.id in ints and rng.random() < 0.7):
                        body[i] = ast.Assign(targets=[ast.Name(stmt.target.id, ast.Store())],
                                             value=ast.BinOp(ast.Name(stmt.target.id, ast.Load()), stmt.op, stmt.value))
                        done = True
    return done


_MIRROR = {ast.Lt: ast.Gt, ast.Gt: ast.Lt, ast.LtE: ast.GtE, ast.GtE: ast.LtE, ast.Eq: ast.Eq, ast.NotEq: ast.NotEq}


def _mirror_compare(tree: ast.Module, protected: set[str], rng: random.Random) -> bool:
    """``a < b`` -> ``b > a`` for simple operands (names, constants, attributes, subscripts)."""
    simple = (ast.Name, ast.Constant, ast.Attribute, ast.Subscript)
    cands = [n for fn in _functions(tree, protected) for n in ast.walk(fn)
             if isinstance(n, ast.Compare) and len(n.ops) == 1 and type(n.ops[0]) in _MIRROR
             and isinstance(n.left, simple) and isinstance(n.comparators[0], simple)]
    if not cands:
        return False
    for node in cands:
        if rng.random() < 0.5:
            node.left, node.comparators = node.comparators[0], [node.left]
            node.ops = [_MIRROR[type(node.ops[0])]()]
    return True


def _int_valued(node: ast.AST, range_vars: set[str]) -> bool:
    """Expressions that are ints whatever the input: ``len(...)``, int literals, ``range`` loop variables."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "len":
        return True
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return True
    return isinstance(node, ast.Name) and node.id in range_vars


def _int_names(fn: ast.FunctionDef) -> set[str]:
    """Names that can only hold ints: ``range`` loop variables, and names only ever assigned
    int literals or ``len(...)`` (augmented with int literals)."""
    names = {n.target.id for n in ast.walk(fn) if isinstance(n, ast.For) and isinstance(n.target, ast.Name)
             and isinstance(n.iter, ast.Call) and isinstance(n.iter.func, ast.Name) and n.iter.func.id == "range"}
    stores: dict[str, list[ast.AST]] = {}
    handled: set[int] = set()
    for n in ast.walk(fn):
        if isinstance(n, ast.Assign) and len(n.targets) == 1 and isinstance(n.targets[0], ast.Name):
            stores.setdefault(n.targets[0].id, []).append(n.value)
            handled.add(id(n.targets[0]))
        elif isinstance(n, ast.AugAssign) and isinstance(n.target, ast.Name):
            stores.setdefault(n.target.id, []).append(n.value if isinstance(n.op, (ast.Add, ast.Sub)) else n)
            handled.add(id(n.target))
    for n in ast.walk(fn):
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store) and id(n) not in handled:
            stores.setdefault(n.id, []).append(n)  # for-loop / unpacking targets: type unknown
    params = {a.arg for a in fn.args.args + fn.args.kwonlyargs + fn.args.posonlyargs}
    for name, values in stores.items():
        if name in params or name in names:
            continue
        if all(_int_valued(v, set()) for v in values if not isinstance(v, ast.Name) or v.id != name) and all(
                not isinstance(v, ast.Name) for v in values):
            names.add(name)
    return names


def _shift_bound(tree: ast.Module, protected: set[str], rng: random.Random) -> bool:
    """``i < n`` -> ``i <= n - 1`` and ``i <= n`` -> ``i < n + 1`` where both sides are ints."""
    done = False
    for fn in _functions(tree, protected):
        range_vars = _int_names(fn)
        for node in ast.walk(fn):
            if not (isinstance(node, ast.Compare) and len(node.ops) == 1 and isinstance(node.ops[0], (ast.Lt, ast.LtE))):
                continue
            left, right = node.left, node.comparators[0]
            if not (_int_valued(left, range_vars) and _int_valued(right, range_vars)) or rng.random() < 0.5:
                continue
            if isinstance(node.ops[0], ast.Lt):
                node.ops = [ast.LtE()]
                node.comparators = [ast.BinOp(right, ast.Sub(), ast.Constant(1))]
            else:
                node.ops = [ast.Lt()]
                node.comparators = [ast.BinOp(right, ast.Add(), ast.Constant(1))]
            done = True
    return done


def _explicit_range_start(tree: ast.Module, protected: set[str], rng: random.Random) -> bool:
    """``range(n)`` -> ``range(0, n)``."""
    done = False
    for fn in _functions(tree, protected):
        for node in ast.walk(fn):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "range"
                    and len(node.args) == 1 and not node.keywords and rng.random() < 0.7):
                node.args = [ast.Constant(0), node.args[0]]
                done = True
    return done


_REWRITERS: dict[str, Callable[[ast.Module, set[str], random.Random], bool]] = {
    "rename": _rename,
    "loop_to_comprehension": _loop_to_comprehension,
    "comprehension_to_loop": _comprehension_to_loop,
    "invert_if": _invert_if,
    "expand_augassign": _expand_augassign,
    "mirror_compare": _mirror_compare,
    "shift_bound": _shift_bound,
    "explicit_range_start": _explicit_range_start,
}


MODULE_WRAPPER = "__obench_module__"


def _wrap_module(tree: ast.Module) -> ast.Module:
    """A program's statements as the body of one function, so the function rewrites apply to them."""
    fn = ast.FunctionDef(name=MODULE_WRAPPER, args=ast.arguments(posonlyargs=[], args=[], kwonlyargs=[], kw_defaults=[],
                                                                  defaults=[]),
                         body=tree.body or [ast.Pass()], decorator_list=[])
    if "type_params" in ast.FunctionDef._fields:  # Python >= 3.12
        fn.type_params = []  # type: ignore[attr-defined]
    return ast.Module(body=[fn], type_ignores=[])


def _unwrap_module(tree: ast.Module) -> ast.Module:
    fn = tree.body[0]
    assert isinstance(fn, ast.FunctionDef) and fn.name == MODULE_WRAPPER
    return ast.Module(body=fn.body, type_ignores=[])


def rewrite(code: str, protected: set[str], rng: random.Random, families: tuple[str, ...] | None = None,
            p: float = 0.5, module: bool = False) -> tuple[str, tuple[str, ...]]:
    """Apply each rewrite family with probability ``p`` (or exactly ``families``); returns (code, applied).

    ``module``: the code is a program (module-level statements): its statements are rewritten as if
    they were one function's body (a module-level name is renamed everywhere it is used; programs
    with ``global`` statements are not renamed)."""
    tree = ast.parse(code)
    if module:
        tree = _wrap_module(tree)
    applied = []
    for name, fn in _REWRITERS.items():
        use = (name in families) if families is not None else (rng.random() < p)
        if not use:
            continue
        trial = copy.deepcopy(tree)
        if fn(trial, protected, rng):
            ast.fix_missing_locations(trial)
            try:
                compile(ast.unparse(trial), "<rewrite>", "exec")
            except SyntaxError:
                continue
            tree = trial
            applied.append(name)
    if module:
        tree = _unwrap_module(tree)
    return normalise(ast.unparse(tree)), tuple(applied)
