"""Reviewers: anything that turns (task prompt, candidate) into a :class:`Review`.

Reviewers are created from a spec string. Built-in baselines need no model:

- ``random[:SEED]``: p_buggy uniform in [0, 1] from a seeded generator keyed by the
  candidate, verdict by p_buggy >= 0.5 (an AUROC near 0.5 is its job).
- ``always-buggy``: flags everything with p_buggy = 1.

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
