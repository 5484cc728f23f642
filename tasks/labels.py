"""The labelling rule: how execution decides what a candidate is. Its one home.

Every place that judges code by running it (``tasks build``, ``tasks check``,
``suite from-generations``, witness verification, the gold self-check) calls this
module; none has a rule of its own.

**Tests.** A test is ``(args, expected)``: a valid input (it satisfies the task's
contract) and the reference's output on it. The reference returns normally on
every test. Visible tests come first, then hidden tests. For a program task the input
is ``(stdin_text,)`` and the output its stdout, both outputs compared after whitespace
normalisation (:func:`tasks.kinds.normalise_stdout`) on the host.

**Outcomes.** Each call of the candidate on a test ends in one outcome:

- a *deterministic failure*: it returns another value (or, where the task admits
  several answers, a value its output checker rejects), or it raises an exception
  (``error``; the reference raised none);
- an *unstable failure*: ``timeout``, ``memory`` or ``crash``. These can come from
  contention, the machine or the harness, so they never decide anything by
  themselves: they are first re-run alone in a fresh sandbox with generous limits
  (:func:`harness.executor.confirm_calls`, the one re-run mechanism), and what is
  still unstable after that is reported as such, with its evidence;
- ``infra``: the sandbox itself failed. Re-run with backoff; what stays ``infra`` is
  reported for a later retry and decides nothing.

**Labels.**

- ``buggy``: at least one deterministic failure. Failures on visible tests count; a
  buggy candidate that fails no visible test is a *hidden bug*.
- ``correct``: passes every test.
- ``undecided``: fails only through unstable outcomes after confirmation
  (reported as ``undecided: timeout`` and the like).
- ``infra``: an infrastructure failure remained; nothing is decided.

A witness (one input) is judged by the same rule: it is a *verified catch* only
when the candidate fails deterministically on it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from harness import codec
from harness.executor import confirm_calls
from harness.jobs import UNSTABLE, CallJob, CallResult
from harness.sandbox import Sandbox
from tasks.compare import outcomes_differ
from tasks.kinds import output_canon, task_job
from tasks.suite import TaskRecord

Label = Literal["buggy", "correct", "undecided", "infra"]
Test = tuple[tuple[Any, ...], Any]
OutputChecker = Callable[[tuple[Any, ...], Any], bool]
Canon = Callable[[Any], Any]

#: Outcomes of a call that can decide a label.
DETERMINISTIC = frozenset({"ok", "error"})

#: Subtlety buckets: (upper bound on the share of hidden inputs failed, name). The one definition,
#: used by suite statistics, datasheets and score breakdowns.
SUBTLETY_BUCKETS = ((0.02, "subtle (≤2% of hidden inputs fail)"), (0.10, "2–10%"), (0.50, "10–50%"),
                    (1.01, "blatant (>50%)"))


def subtlety_bucket(subtlety: float) -> str:
    """The bucket name of a buggy candidate's subtlety (share of hidden inputs it fails)."""
    for upper, name in SUBTLETY_BUCKETS:
        if subtlety <= upper:
            return name
    return SUBTLETY_BUCKETS[-1][1]


@dataclass(frozen=True)
class Judgement:
    """What execution says about one candidate on one sequence of tests.

    Attributes:
        label: ``buggy`` / ``correct`` / ``undecided`` / ``infra``.
        failing: indices of every test whose outcome differs from the expected one.
        decisive: the deterministic failures among them (what makes a candidate buggy).
        n_visible: how many of the tests are visible (they come first).
        reason: for ``undecided``, the unstable outcome(s) (``timeout``, ``memory``, ``crash``);
            for ``infra``, what failed.
    """

    label: Label
    failing: tuple[int, ...]
    decisive: tuple[int, ...]
    n_visible: int
    reason: str = ""

    @property
    def visible_failing(self) -> list[int]:
        return [k for k in self.failing if k < self.n_visible]

    @property
    def hidden_failing(self) -> list[int]:
        """Failing hidden tests, as 0-based indices among the hidden tests."""
        return [k - self.n_visible for k in self.failing if k >= self.n_visible]

    @property
    def hidden_bug(self) -> bool:
        """Buggy, and no visible test fails."""
        return self.label == "buggy" and not self.visible_failing

    @property
    def shown(self) -> str:
        """The label as reported: ``undecided: timeout`` and the like."""
        return f"{self.label}: {self.reason}" if self.label == "undecided" and self.reason else self.label


def fails(result: CallResult, test: Test, *, unordered: bool = False, checker: OutputChecker | None = None,
          canon: Canon | None = None) -> bool:
    """Whether one outcome differs from the test's expected output (any status but ``ok`` differs).
    ``canon`` puts both outputs in a canonical form first (program tasks: normalised stdout)."""
    args, expected = test
    value = result.decoded if result.status == "ok" else None
    if canon is not None and result.status == "ok":
        value, expected = canon(value), canon(expected)
    return outcomes_differ(result.status, value, result.error, expected,
                           unordered=unordered, valid_output=checker, args=args)


def judge(results: Sequence[CallResult], tests: Sequence[Test], *, n_visible: int = 0, unordered: bool = False,
          checker: OutputChecker | None = None, canon: Canon | None = None) -> Judgement:
    """Apply the rule to a candidate's outcomes on ``tests`` (one result per test, in order)."""
    if len(results) != len(tests) or any(r.infra for r in results):
        infra = [r for r in results if r.infra]
        why = (infra[0].error or {}).get("message", "sandbox failure") if infra else "missing results"
        return Judgement("infra", (), (), n_visible, str(why)[:200])
    failing = tuple(k for k, (r, t) in enumerate(zip(results, tests))
                    if fails(r, t, unordered=unordered, checker=checker, canon=canon))
    decisive = tuple(k for k in failing if results[k].status in DETERMINISTIC)
    if decisive:
        return Judgement("buggy", failing, decisive, n_visible)
    if failing:
        kinds = sorted({results[k].status for k in failing})
        return Judgement("undecided", failing, (), n_visible, ", ".join(kinds))
    return Judgement("correct", (), (), n_visible)


def rests_on_unstable(j: Judgement, results: Sequence[CallResult]) -> list[int]:
    """The inputs to confirm before ``j`` may stand: its unstable failures, when they matter.

    They matter when the label would be ``undecided`` (only unstable failures), or when the
    only visible failures are unstable (they decide whether a buggy candidate is a hidden bug).
    """
    unstable = [k for k in j.failing if results[k].status in UNSTABLE]
    if not unstable:
        return []
    if j.label == "undecided":
        return unstable
    vis = j.visible_failing
    if vis and all(results[k].status in UNSTABLE for k in vis):
        return [k for k in unstable if k < j.n_visible]
    return []


@dataclass(frozen=True)
class Case:
    """One candidate to label: its job and the tests the job's inputs come from."""

    job: CallJob
    tests: Sequence[Test]
    n_visible: int = 0
    unordered: bool = False
    checker: OutputChecker | None = None
    canon: Canon | None = None

    def judge(self, results: Sequence[CallResult]) -> Judgement:
        return judge(results, self.tests, n_visible=self.n_visible, unordered=self.unordered, checker=self.checker,
                     canon=self.canon)


def output_checker(task: str | TaskRecord) -> OutputChecker | None:
    """The task's output checker, where its specification admits several right answers
    (a suite task, or a HumanEval task id)."""
    from tasks.contracts import contract_for

    if isinstance(task, str):
        from tasks.contracts.humaneval import CONTRACTS

        contract = CONTRACTS.get(task)
    else:
        contract = contract_for(task)
    return contract.valid_output if contract is not None else None


def task_tests(task: TaskRecord) -> list[Test]:
    """A suite task's tests in labelling order: visible, then hidden."""
    return task.visible() + task.hidden()


def task_case(task: TaskRecord, code: str, tests: Sequence[Test] | None = None, n_visible: int = 0) -> Case:
    """The case that labels ``code`` against a suite task: all its tests (visible first), or
    ``tests`` (already decoded; the first ``n_visible`` of them visible)."""
    from harness.jobs import Limits

    if tests is None:
        n_visible = len(task.visible())
        tests = task_tests(task)
    job = task_job(task, code, [a for a, _ in tests],
                   limits=Limits(timeout_s=task.time_limit_s, memory_mb=256, max_timeouts=2))
    return Case(job, tests, n_visible, task.unordered_output, output_checker(task), output_canon(task.kind))


def label_cases(sandbox: Sandbox, cases: Sequence[Case], *, chunk: int = 64,
                progress: Callable[[int, int], None] | None = None, confirm: bool = True,
                sleep: Callable[[float], None] | None = None) -> list[tuple[Judgement, list[CallResult]]]:
    """Run, confirm and judge every case: the labelling pipeline.

    Cases run in chunks (``progress(done, total)`` after each); infra outcomes are re-run with
    backoff and the unstable outcomes a decision would rest on are confirmed alone
    (:func:`harness.executor.confirm_calls`) before the rule is applied. ``confirm=False``
    skips the confirmation, for a filter whose every non-``correct`` outcome is discarded
    anyway (it decides no label).
    """
    out: list[tuple[Judgement, list[CallResult]]] = []
    for i in range(0, len(cases), chunk):
        part = list(cases[i: i + chunk])
        jobs = [c.job for c in part]
        raw = sandbox.run_calls(jobs) if jobs else []

        def select(k: int, res: list[CallResult], part: list[Case] = part) -> list[int]:
            return rests_on_unstable(part[k].judge(res), res)

        merged, _ = confirm_calls(sandbox, jobs, raw, select=select if confirm else None, sleep=sleep)
        out.extend((c.judge(res), res) for c, res in zip(part, merged))
        if progress is not None:
            progress(min(i + chunk, len(cases)), len(cases))
    return out


def witness_records(j: Judgement, results: Sequence[CallResult], tests: Sequence[Test],
                    limit: int = 3) -> list[dict[str, Any]]:
    """Evidence for a buggy label: its first ``limit`` decisive failures, in test order.

    Each is ``{input, expected, status, actual, error}`` with codec-encoded JSON text values.
    """
    rows = []
    for k in j.decisive[:limit]:
        r = results[k]
        args, expected = tests[k]
        rows.append({
            "input": codec.dumps(list(args)),
            "expected": codec.dumps(expected),
            "status": r.status,
            "actual": codec.dumps(r.decoded) if r.status == "ok" else None,
            "error": f"{r.error.get('type')}: {r.error.get('message')}" if r.error else None,
        })
    return rows
