"""Contract suggestions: argument types inferred from a task's examples. Suggested, never applied.

The values come from the docstring examples and from the literal calls in the task's tests
(``candidate(3, [1, 2])`` with literal arguments), read by parsing only: nothing is executed.
The suggestion holds types only; what the examples showed (ranges, lengths, characters) is
reported beside it as context, because a handful of examples does not say what the docstring
allows. ``obench tasks suggest-contract`` prints it; a researcher reviews it and adds it to the
task file (the builder never uses a suggestion).
"""

from __future__ import annotations

import ast
from typing import Any

from tasks.contracts.spec import infer_type, observed
from tasks.sources import SourceTask
from tasks.visible import parse_examples

REVIEW_NOTE = ("a suggestion from the examples' types, not applied: check it against the docstring, add ranges, "
               "lengths, character sets or sortedness it states, then put it in the task file's \"contract\"")


def literal_test_calls(test: str, names: tuple[str, ...] = ("candidate",)) -> list[tuple[Any, ...]]:
    """Argument tuples of the calls of ``names`` in a test program whose arguments are all literals."""
    try:
        tree = ast.parse(test)
    except (SyntaxError, ValueError, RecursionError):
        return []
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in names \
                and not node.keywords:
            try:
                out.append(tuple(ast.literal_eval(a) for a in node.args))
            except (ValueError, SyntaxError, TypeError, RecursionError, MemoryError):
                continue
    return out


def _params(task: SourceTask) -> list[str] | None:
    try:
        tree = ast.parse(task.reference)
    except SyntaxError:
        return None
    for n in tree.body:
        if isinstance(n, ast.FunctionDef) and n.name == task.entry_point:
            if n.args.vararg:
                return None
            return [a.arg for a in n.args.posonlyargs + n.args.args]
    return None


def suggest_contract(task: SourceTask) -> dict[str, Any]:
    """A suggested contract spec for ``task`` with its evidence (``suggestion`` is None when no
    type can be inferred, with the ``reason``). Never raises for a loaded task."""
    base: dict[str, Any] = {"task_id": task.task_id, "applied": False}
    if task.kind == "program":
        return base | {"suggestion": None, "reason": "a program reads stdin: write a `predicate` (def valid(stdin)) "
                                                      "and an `input_generator` (def generate(rng)) instead"}
    params = _params(task)
    if params is None:
        return base | {"suggestion": None, "reason": f"cannot read the positional parameters of {task.entry_point!r}"}
    examples = [e.args for e in parse_examples(task.prompt, task.entry_point)]
    calls = literal_test_calls(task.test)
    values = [a for a in examples + calls if len(a) == len(params)]
    evidence = {"docstring_examples": len(examples), "literal_test_calls": len(calls)}
    if not values:
        return base | {"suggestion": None, "based_on": evidence,
                       "reason": "no docstring example or literal test call with every argument to infer from"}
    args: dict[str, str] = {}
    seen: dict[str, Any] = {}
    for i, name in enumerate(params):
        column = [v[i] for v in values]
        t = infer_type(column)
        if t is None:
            kinds = sorted({type(v).__name__ for v in column})
            return base | {"suggestion": None, "based_on": evidence,
                           "reason": f"{name}: the examples mix types the contract language cannot join ({', '.join(kinds)})"}
        args[name] = t.type_text()
        seen[name] = observed(column)
    return base | {"suggestion": {"args": args}, "observed": seen, "based_on": evidence, "note": REVIEW_NOTE}
