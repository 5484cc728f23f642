"""Reviewers: anything that turns (task prompt, candidate) into a :class:`Review`.

Reviewers are created from a spec string. Built-in baselines need no model:

- ``random[:SEED]``: p_buggy uniform in [0, 1] from a seeded generator keyed by the
  candidate, verdict by p_buggy >= 0.5 (an AUROC near 0.5 is its job).
- ``always-buggy``: flags everything with p_buggy = 1.
- ``lint``: static AST heuristics (suspicious bounds, unreachable code, unused
  names, shadowed builtins...) turned into p_buggy; sees only the code.

Model-backed specs (``hf:<id-or-path>``, ``openai:<model>``) and the ``lint`` and
``oracle`` baselines register here as they are added; an unknown spec fails with
the list of known forms.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from bench.review import Review


@dataclass(frozen=True)
class ReviewRequest:
    """What a reviewer may see: the task prompt (with its visible tests) and the candidate.

    Never hidden tests, labels or the reference.
    """

    candidate_id: str
    task_id: str
    prompt: str
    entry_point: str
    code: str


@runtime_checkable
class Reviewer(Protocol):
    """Reviews a batch of requests, one review per request, in order."""

    @property
    def spec(self) -> str:
        """The spec string that created this reviewer (recorded in run manifests)."""
        ...

    def review(self, requests: Sequence[ReviewRequest]) -> list[Review]: ...


ReviewerFactory = Callable[[str], Reviewer]
_FACTORIES: dict[str, tuple[ReviewerFactory, str]] = {}


def register_reviewer(prefix: str, form: str) -> Callable[[ReviewerFactory], ReviewerFactory]:
    """Register a factory for specs equal to ``prefix`` or starting with ``prefix:``."""

    def deco(factory: ReviewerFactory) -> ReviewerFactory:
        _FACTORIES[prefix] = (factory, form)
        return factory

    return deco


def known_forms() -> list[str]:
    return [form for _, form in _FACTORIES.values()]


class UnknownReviewer(ValueError):
    """A reviewer spec no factory understands."""


def create_reviewer(spec: str) -> Reviewer:
    """The reviewer for ``spec``.

    Raises:
        UnknownReviewer: listing every known spec form.
    """
    prefix = spec.split(":", 1)[0]
    if prefix not in _FACTORIES:
        raise UnknownReviewer(f"unknown reviewer {spec!r}; known forms: {', '.join(known_forms())}")
    return _FACTORIES[prefix][0](spec)


def _seed_for(seed: int, candidate_id: str) -> int:
    return int(hashlib.sha256(f"{seed}:{candidate_id}".encode()).hexdigest()[:16], 16)


@dataclass(frozen=True)
class RandomReviewer:
    """Seeded coin: the chance baseline."""

    spec: str
    seed: int = 0

    def review(self, requests: Sequence[ReviewRequest]) -> list[Review]:
        out = []
        for r in requests:
            p = random.Random(_seed_for(self.seed, r.candidate_id)).random()
            out.append(Review(verdict="buggy" if p >= 0.5 else "correct", p_buggy=p, explanation="random baseline"))
        return out


@dataclass(frozen=True)
class AlwaysBuggyReviewer:
    """Flags everything: catch 1.0 at a false-alarm rate of 1.0."""

    spec: str = "always-buggy"

    def review(self, requests: Sequence[ReviewRequest]) -> list[Review]:
        return [Review(verdict="buggy", p_buggy=1.0, explanation="always-buggy baseline") for _ in requests]


@register_reviewer("random", "random[:SEED]")
def _random(spec: str) -> Reviewer:
    _, _, seed = spec.partition(":")
    if seed and not seed.lstrip("-").isdigit():
        raise UnknownReviewer(f"random reviewer seed must be an integer, got {seed!r} (e.g. random:7)")
    return RandomReviewer(spec=spec, seed=int(seed or 0))


@register_reviewer("always-buggy", "always-buggy")
def _always(spec: str) -> Reviewer:
    if spec != "always-buggy":
        raise UnknownReviewer(f"always-buggy takes no argument, got {spec!r}")
    return AlwaysBuggyReviewer()


_SUSPICIOUS_BUILTINS = {"list", "dict", "str", "int", "len", "sum", "max", "min", "sorted", "set", "range", "map", "filter"}


def lint_findings(code: str) -> list[tuple[int, str]]:
    """(line, message) findings of a small static checker; no execution."""
    import ast

    try:
        tree = ast.parse(code)
    except SyntaxError as exc:
        return [(exc.lineno or 1, f"syntax error: {exc.msg}")]
    out: list[tuple[int, str]] = []
    for fn in (n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)):
        stored = {n.id: n.lineno for n in ast.walk(fn) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
        loaded = {n.id for n in ast.walk(fn) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
        for name, line in stored.items():
            if name not in loaded and not name.startswith("_"):
                out.append((line, f"{name!r} is assigned but never used"))
            if name in _SUSPICIOUS_BUILTINS:
                out.append((line, f"{name!r} shadows a builtin"))
        for body_owner in ast.walk(fn):
            body = getattr(body_owner, "body", None)
            if isinstance(body, list):
                for i, stmt in enumerate(body[:-1]):
                    if isinstance(stmt, (ast.Return, ast.Raise, ast.Break, ast.Continue)):
                        out.append((body[i + 1].lineno, "unreachable code"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "range" and node.args:
            last = node.args[-1] if len(node.args) <= 2 else node.args[1]
            if isinstance(last, ast.BinOp) and isinstance(last.right, ast.Constant) and last.right.value in (1, 2):
                out.append((node.lineno, "range bound adjusted by a constant (possible off-by-one)"))
        if isinstance(node, ast.Compare):
            for op, right in zip(node.ops, node.comparators):
                if isinstance(op, (ast.Eq, ast.NotEq)) and isinstance(right, ast.Constant) and right.value is None:
                    out.append((node.lineno, "comparison to None with == / !="))
                if isinstance(right, ast.BinOp) and isinstance(right.right, ast.Constant) and right.right.value == 1:
                    out.append((node.lineno, "comparison bound adjusted by 1 (possible off-by-one)"))
        if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.BinOp) and isinstance(node.slice.right, ast.Constant):
            out.append((node.lineno, "index adjusted by a constant"))
        if isinstance(node, ast.If) and isinstance(node.test, ast.Constant):
            out.append((node.lineno, "constant condition"))
    return sorted(set(out))


@dataclass(frozen=True)
class LintReviewer:
    """Static heuristics: p_buggy grows with the number of findings (1 - 0.8^n, scaled)."""

    spec: str = "lint"

    def review(self, requests: Sequence[ReviewRequest]) -> list[Review]:
        out = []
        for r in requests:
            findings = lint_findings(r.code)
            p = round(0.1 + 0.8 * (1 - 0.7 ** len(findings)), 4)
            out.append(Review(verdict="buggy" if p >= 0.5 else "correct", p_buggy=p,
                              lines=tuple(sorted({line for line, _ in findings})),
                              explanation="; ".join(f"line {line}: {msg}" for line, msg in findings)[:2000] or "no findings"))
        return out


@register_reviewer("lint", "lint")
def _lint(spec: str) -> Reviewer:
    if spec != "lint":
        raise UnknownReviewer(f"lint takes no argument, got {spec!r}")
    return LintReviewer()


class OracleReviewer:
    """Runs the hidden tests: the ceiling and a sanity check of the pipeline.

    It reads what no real reviewer may see, so it is never a leaderboard entry.
    Created with the suite and a sandbox (not from a bare spec string).
    """

    spec = "oracle"

    def __init__(self, suite: object, sandbox: object) -> None:
        self.suite = suite
        self.sandbox = sandbox

    def review(self, requests: Sequence[ReviewRequest]) -> list[Review]:
        from tasks.check import CheckItem, label_items

        items = [CheckItem(n, r.task_id, r.code) for n, r in enumerate(requests, 1)]
        rows = label_items(self.sandbox, self.suite, items)  # type: ignore[arg-type]
        out = []
        for row in rows:
            buggy = row["label"] == "buggy"
            witness = None
            if buggy and row["witnesses"]:
                from harness import codec

                witness = repr(tuple(codec.decode(row["witnesses"][0]["input"])))
            out.append(Review(verdict="buggy" if buggy else "correct", p_buggy=1.0 if buggy else 0.0,
                              witness=witness, explanation="oracle: hidden tests"))
        return out
