"""Generators: anything that writes candidate code for a task, in ``honest`` or ``sneaky`` mode.

- ``honest``: solve the task from its prompt (natural errors).
- ``sneaky``: given the task and a correct solution, insert a bug that passes the
  visible tests yet is wrong on some valid input (deliberate errors).

Specs: ``hf:<path>`` and ``openai:<model>`` (model backends asked with a versioned
prompt template), and two built-in baselines that need no model:

- ``mutant[:SEED]``: returns a seeded single-site mutant of the task's reference (both
  modes; it reads the reference, so it is a baseline, not a model);
- ``reference``: returns the reference unchanged (honest ceiling: pass@1 = 1).
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from bench.models import GenerateConfig, Generation, Model, ModelOptions, UnknownModel, create_model, is_model_spec
from bench.models import model_forms as _model_forms
from bench.prompts import PromptTemplate, UnknownPrompt, load_prompt

MODES = ("honest", "sneaky")


@dataclass(frozen=True)
class GenerationRequest:
    """What a generator sees: the task prompt, and in sneaky mode a correct solution."""

    task_id: str
    prompt: str
    entry_point: str
    mode: str
    solution: str = ""
    sample: int = 0


@runtime_checkable
class Generator(Protocol):
    """Writes one reply per request; yields ``(index, generation)`` as each completes."""

    @property
    def spec(self) -> str: ...

    def describe(self) -> dict[str, Any]: ...

    def generate(self, requests: Sequence[GenerationRequest], config: GenerateConfig) -> Iterator[tuple[int, Generation]]:
        ...


class UnknownGenerator(ValueError):
    """A generator spec no factory understands, or one that cannot be created."""


@dataclass(frozen=True)
class GeneratorContext:
    """What a generator factory may use besides the spec."""

    model_options: ModelOptions = field(default_factory=ModelOptions)
    prompts: dict[str, str] = field(default_factory=lambda: {m: f"generate_{m}.v1" for m in MODES})


GeneratorFactory = Callable[[str, GeneratorContext], Generator]
_FACTORIES: dict[str, tuple[GeneratorFactory, str]] = {}


def register_generator(prefix: str, form: str) -> Callable[[GeneratorFactory], GeneratorFactory]:
    """Register a factory for specs equal to ``prefix`` or starting with ``prefix:``."""

    def deco(factory: GeneratorFactory) -> GeneratorFactory:
        _FACTORIES[prefix] = (factory, form)
        return factory

    return deco


def generator_forms() -> list[str]:
    return [*_model_forms(), *(form for _, form in _FACTORIES.values())]


def create_generator(spec: str, context: GeneratorContext | None = None) -> Generator:
    """The generator for ``spec``.

    Raises:
        UnknownGenerator: listing every known form, or saying why it cannot be created.
    """
    ctx = context or GeneratorContext()
    prefix = spec.split(":", 1)[0]
    if prefix in _FACTORIES:
        return _FACTORIES[prefix][0](spec, ctx)
    if is_model_spec(spec):
        try:
            prompts = {m: load_prompt(name) for m, name in ctx.prompts.items()}
            return ModelGenerator(create_model(spec, ctx.model_options), prompts)
        except (UnknownModel, UnknownPrompt) as exc:
            raise UnknownGenerator(str(exc)) from exc
    raise UnknownGenerator(f"unknown generator {spec!r}; known forms: {', '.join(generator_forms())}")


class ModelGenerator:
    """A model asked with the mode's prompt template."""

    def __init__(self, model: Model, prompts: dict[str, PromptTemplate]) -> None:
        self.model = model
        self.prompts = prompts

    @property
    def spec(self) -> str:
        return self.model.spec

    def describe(self) -> dict[str, Any]:
        return {"spec": self.spec, "model": self.model.describe(),
                "prompts": {m: {"name": p.name, "sha256": p.sha256} for m, p in self.prompts.items()}}

    def messages(self, r: GenerationRequest) -> list[dict[str, str]]:
        template = self.prompts[r.mode]
        if r.mode == "sneaky":
            return template.render(r.prompt, r.entry_point, r.solution)
        return template.render(r.prompt, r.entry_point)

    def generate(self, requests: Sequence[GenerationRequest], config: GenerateConfig) -> Iterator[tuple[int, Generation]]:
        return self.model.generate([self.messages(r) for r in requests], config)


def _fence(code: str) -> str:
    return f"```python\n{code}\n```\n"


@dataclass(frozen=True)
class MutantGenerator:
    """Baseline: a seeded single-site mutant of the reference (reads the reference: not a model)."""

    spec: str
    seed: int = 0

    def describe(self) -> dict[str, Any]:
        return {"spec": self.spec, "baseline": "mutant", "seed": self.seed}

    def generate(self, requests: Sequence[GenerationRequest], config: GenerateConfig) -> Iterator[tuple[int, Generation]]:
        from tasks.mutants import propose_mutants
        from tasks.rewrites import normalise

        for i, r in enumerate(requests):
            key = f"{self.seed}:{config.seed}:{r.task_id}:{r.sample}:{r.mode}"
            rng = random.Random(int(hashlib.sha256(key.encode()).hexdigest()[:16], 16))
            try:
                mutants = propose_mutants(normalise(r.solution), r.entry_point, set(), rng, limit=1)
            except SyntaxError:
                mutants = []
            text = _fence(mutants[0].code) if mutants else "I could not find a change to make."
            yield i, Generation(text=text)


@dataclass(frozen=True)
class ReferenceGenerator:
    """Baseline: the reference itself (the honest ceiling)."""

    spec: str = "reference"

    def describe(self) -> dict[str, Any]:
        return {"spec": self.spec, "baseline": "reference"}

    def generate(self, requests: Sequence[GenerationRequest], config: GenerateConfig) -> Iterator[tuple[int, Generation]]:
        for i, r in enumerate(requests):
            yield i, Generation(text=_fence(r.solution))


@register_generator("mutant", "mutant[:SEED]")
def _mutant(spec: str, ctx: GeneratorContext) -> Generator:
    _, _, seed = spec.partition(":")
    if seed and not seed.lstrip("-").isdigit():
        raise UnknownGenerator(f"mutant generator seed must be an integer, got {seed!r} (e.g. mutant:2)")
    return MutantGenerator(spec=spec, seed=int(seed or 0))


@register_generator("reference", "reference")
def _reference(spec: str, ctx: GeneratorContext) -> Generator:
    if spec != "reference":
        raise UnknownGenerator(f"reference takes no argument, got {spec!r}")
    return ReferenceGenerator()
