"""The candidates a weak-to-strong experiment trains and tests on, and the student's input text."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from tasks.suite import Suite

INPUTS = ("prompt+code", "code")
"""What the student reads (:func:`student_text`); recorded in the manifest as ``<input>.v1``."""


class W2SError(ValueError):
    """A weak-to-strong experiment that cannot run as asked (the message says what to change)."""


def student_text(prompt: str, code: str, student_input: str = "prompt+code") -> str:
    """What the student reads: ``prompt+code`` (the task prompt, a blank line, the code) or ``code`` alone.

    Raises:
        W2SError: an unknown ``student_input``.
    """
    if student_input == "prompt+code":
        return f"{prompt.rstrip()}\n\n{code.strip()}\n"
    if student_input == "code":
        return f"{code.strip()}\n"
    raise W2SError(f"unknown student input {student_input!r}; inputs: {', '.join(INPUTS)}")


@dataclass(frozen=True)
class Example:
    """One candidate as the experiment sees it (``buggy`` is the execution-decided label)."""

    candidate_id: str
    task_id: str
    buggy: bool
    code: str
    text: str


@dataclass(frozen=True)
class W2SData:
    """Train and test candidates, each in the fixed hash order of ``bench.runs.evaluate.select_items``."""

    train: tuple[Example, ...]
    test: tuple[Example, ...]
    student_input: str = "prompt+code"

    def restrict(self, train_ids: Iterable[str], test_ids: Iterable[str]) -> W2SData:
        """Only the candidates with these ids (order kept)."""
        tr, te = set(train_ids), set(test_ids)
        return W2SData(tuple(e for e in self.train if e.candidate_id in tr),
                       tuple(e for e in self.test if e.candidate_id in te), self.student_input)

    def describe(self) -> dict[str, object]:
        """Counts and id hashes, for the manifest."""
        def ids_sha(xs: tuple[Example, ...]) -> str:
            return "sha256:" + hashlib.sha256("\n".join(e.candidate_id for e in xs).encode()).hexdigest()

        return {"n_train": len(self.train), "n_test": len(self.test),
                "n_train_buggy": sum(e.buggy for e in self.train), "n_test_buggy": sum(e.buggy for e in self.test),
                "n_train_tasks": len({e.task_id for e in self.train}),
                "n_test_tasks": len({e.task_id for e in self.test}),
                "train_ids_sha256": ids_sha(self.train), "test_ids_sha256": ids_sha(self.test),
                "student_input": f"{self.student_input}.v1"}


def examples(suite: Suite, split: str, limit: int = 0, student_input: str = "prompt+code") -> tuple[Example, ...]:
    """The candidates of ``split`` (the first ``limit`` in hash order when ``limit`` > 0)."""
    from bench.runs.evaluate import EvalError, select_items

    try:
        items = select_items(suite, split, limit)
    except EvalError as exc:
        raise W2SError(str(exc)) from exc
    return tuple(Example(c.candidate_id, c.task_id, c.label == "buggy", c.code,
                         student_text(suite.tasks[c.task_id].prompt, c.code, student_input)) for c in items)


def load_data(suite: Suite, limit_train: int = 0, limit_test: int = 0, student_input: str = "prompt+code") -> W2SData:
    """Train and test candidates of ``suite``; ``limit_*`` take the same subsets as ``obench eval --limit``."""
    student_text("", "", student_input)  # validate
    return W2SData(examples(suite, "train", limit_train, student_input),
                   examples(suite, "test", limit_test, student_input), student_input)


def check_data(data: W2SData) -> None:
    """Raise :class:`W2SError` when either split is empty or lacks one of the labels."""
    for name, xs in (("train", data.train), ("test", data.test)):
        n_buggy = sum(e.buggy for e in xs)
        if not xs:
            raise W2SError(f"no {name} candidates left (check --limit-{name} and the weak supervisor's coverage)")
        if n_buggy in (0, len(xs)):
            raise W2SError(f"the {name} candidates ({len(xs)}) are all {'buggy' if n_buggy else 'correct'}; "
                           f"raise --limit-{name}")
