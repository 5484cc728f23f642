"""Reviewers: anything that turns (task prompt, candidate) into a :class:`Review`.

Reviewers are created from a spec string:

- ``hf:<hub-id-or-local-path>``, ``openai:<model>``: a model (see :mod:`bench.models`)
  asked with a versioned prompt template (see :mod:`bench.prompts`); its reply is
  parsed tolerantly, and a reply that cannot be parsed is an ``abstain``.
- ``random[:SEED]``: p_buggy uniform in [0, 1] from a seeded generator keyed by the
  candidate, verdict by p_buggy >= 0.5 (an AUROC near 0.5 is its job).
- ``always-buggy``: flags everything with p_buggy = 1.
- ``lint``: static AST heuristics (suspicious bounds, unreachable code, unused
  names, shadowed builtins...) turned into p_buggy; sees only the code.
- ``oracle``: runs the hidden tests (the ceiling and a pipeline check; never a
  leaderboard entry).

An unknown spec fails with the list of known forms.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from bench.models import GenerateConfig, Model, ModelOptions, UnknownModel, create_model, is_model_spec, model_forms
from bench.prompts import DEFAULT_REVIEW_PROMPT, PromptTemplate, UnknownPrompt, load_prompt
from bench.reviewing.parse import Review, parse_review


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

    def content_hash(self) -> str:
        """Hash of everything the reviewer is shown (and the id seeded baselines key on)."""
        blob = json.dumps([self.candidate_id, self.task_id, self.prompt, self.entry_point, self.code])
        return hashlib.sha256(blob.encode()).hexdigest()


@runtime_checkable
class Reviewer(Protocol):
    """Reviews a batch of requests, one review per request, in order."""

    @property
    def spec(self) -> str:
        """The spec string that created this reviewer (recorded in run manifests)."""
        ...

    def describe(self) -> dict[str, Any]:
        """Everything that determines its reviews (model identity, prompt hash, decoding), for manifests and keys."""
        ...

    def review(self, requests: Sequence[ReviewRequest]) -> list[Review]: ...


@dataclass(frozen=True)
class ReviewerContext:
    """What a reviewer factory may use besides the spec.

    Attributes:
        suite: the suite under evaluation (only the ``oracle`` reads it).
        sandbox: where the ``oracle`` executes hidden tests.
        model_options: how to reach a model (concurrency, base URL, device...).
        generate: decoding settings.
        prompt: prompt template name or path.
    """

    suite: Any = None
    sandbox: Any = None
    model_options: ModelOptions = field(default_factory=ModelOptions)
    generate: GenerateConfig = field(default_factory=GenerateConfig)
    prompt: str = DEFAULT_REVIEW_PROMPT


ReviewerFactory = Callable[[str, ReviewerContext], Reviewer]
_FACTORIES: dict[str, tuple[ReviewerFactory, str]] = {}


def register_reviewer(prefix: str, form: str) -> Callable[[ReviewerFactory], ReviewerFactory]:
    """Register a factory for specs equal to ``prefix`` or starting with ``prefix:``."""

    def deco(factory: ReviewerFactory) -> ReviewerFactory:
        _FACTORIES[prefix] = (factory, form)
        return factory

    return deco


def known_forms() -> list[str]:
    """Every reviewer spec form: model backends first, then the built-in baselines."""
    return [*model_forms(), *(form for _, form in _FACTORIES.values())]


class UnknownReviewer(ValueError):
    """A reviewer spec no factory understands, or one that cannot be created."""


def create_reviewer(spec: str, context: ReviewerContext | None = None) -> Reviewer:
    """The reviewer for ``spec``.

    Raises:
        UnknownReviewer: listing every known spec form, or saying why it cannot be created.
    """
    ctx = context or ReviewerContext()
    prefix = spec.split(":", 1)[0]
    if prefix in _FACTORIES:
        return _FACTORIES[prefix][0](spec, ctx)
    if is_model_spec(spec):
        try:
            return ModelReviewer(create_model(spec, ctx.model_options), load_prompt(ctx.prompt), ctx.generate)
        except (UnknownModel, UnknownPrompt) as exc:
            raise UnknownReviewer(str(exc)) from exc
    raise UnknownReviewer(f"unknown reviewer {spec!r}; known forms: {', '.join(known_forms())}")


def stream_reviews(reviewer: Reviewer, requests: Sequence[ReviewRequest], chunk: int = 64) -> Iterator[tuple[int, Review]]:
    """``(index, review)`` for every request, as soon as each is ready.

    Reviewers with a ``stream`` method (model-backed ones) yield in completion order;
    others are asked in chunks.
    """
    stream = getattr(reviewer, "stream", None)
    if callable(stream):
        yield from stream(requests)
        return
    for start in range(0, len(requests), chunk):
        batch = requests[start : start + chunk]
        yield from ((start + k, r) for k, r in enumerate(reviewer.review(batch)))


class ModelReviewer:
    """A model asked with a prompt template; replies parsed tolerantly into reviews."""

    def __init__(self, model: Model, prompt: PromptTemplate, generate: GenerateConfig) -> None:
        self.model = model
        self.prompt = prompt
        self.generate = generate

    @property
    def spec(self) -> str:
        return self.model.spec

    def describe(self) -> dict[str, Any]:
        return {"spec": self.spec, "model": self.model.describe(), "prompt": {"name": self.prompt.name,
                "sha256": self.prompt.sha256}, "decoding": self.generate.to_json()}

    def messages(self, request: ReviewRequest) -> list[dict[str, str]]:
        """The chat messages the model is shown for ``request``."""
        return self.prompt.messages(request.prompt, request.entry_point, request.code)

    def stream(self, requests: Sequence[ReviewRequest]) -> Iterator[tuple[int, Review]]:
        prompts = [self.messages(r) for r in requests]
        for i, gen in self.model.generate(prompts, self.generate):
            review = Review.failed(gen.error) if gen.error is not None else parse_review(gen.text)
            yield i, review.model_copy(update={"input_tokens": gen.input_tokens, "output_tokens": gen.output_tokens})

    def review(self, requests: Sequence[ReviewRequest]) -> list[Review]:
        out: list[Review | None] = [None] * len(requests)
        for i, r in self.stream(requests):
            out[i] = r
        return [r if r is not None else Review.failed("no reply yielded") for r in out]


def _seed_for(seed: int, candidate_id: str) -> int:
    return int(hashlib.sha256(f"{seed}:{candidate_id}".encode()).hexdigest()[:16], 16)


@dataclass(frozen=True)
class RandomReviewer:
    """Seeded coin: the chance baseline."""

    spec: str
    seed: int = 0

    def describe(self) -> dict[str, Any]:
        return {"spec": self.spec, "baseline": "random", "seed": self.seed}

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

    def describe(self) -> dict[str, Any]:
        return {"spec": self.spec, "baseline": "always-buggy"}

    def review(self, requests: Sequence[ReviewRequest]) -> list[Review]:
        return [Review(verdict="buggy", p_buggy=1.0, explanation="always-buggy baseline") for _ in requests]


@register_reviewer("random", "random[:SEED]")
def _random(spec: str, ctx: ReviewerContext) -> Reviewer:
    _, _, seed = spec.partition(":")
    if seed and not seed.lstrip("-").isdigit():
        raise UnknownReviewer(f"random reviewer seed must be an integer, got {seed!r} (e.g. random:7)")
    return RandomReviewer(spec=spec, seed=int(seed or 0))


@register_reviewer("always-buggy", "always-buggy")
def _always(spec: str, ctx: ReviewerContext) -> Reviewer:
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

    def describe(self) -> dict[str, Any]:
        return {"spec": self.spec, "baseline": "lint", "version": 1}

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
def _lint(spec: str, ctx: ReviewerContext) -> Reviewer:
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

    def describe(self) -> dict[str, Any]:
        return {"spec": self.spec, "baseline": "oracle", "version": 1}

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


@register_reviewer("oracle", "oracle")
def _oracle(spec: str, ctx: ReviewerContext) -> Reviewer:
    if spec != "oracle":
        raise UnknownReviewer(f"oracle takes no argument, got {spec!r}")
    if ctx.suite is None or ctx.sandbox is None:
        raise UnknownReviewer("the oracle runs hidden tests: it needs the suite and a sandbox (use it through `obench eval`)")
    return OracleReviewer(ctx.suite, ctx.sandbox)
