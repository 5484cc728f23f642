"""Verified catches: a review's witness input, executed on candidate and reference.

A witness counts only when it parses as call arguments, satisfies the task's input
contract, the reference returns normally on it, and the candidate fails on it by the
labelling rule of :mod:`tasks.labels` (another value, or an exception the reference does
not raise; a timeout, memory error or crash is ``undecided``, never a catch). Everything runs in
the sandbox; the comparison happens on the host.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from bench.reviewing.parse import read_witness
from harness.executor import confirm_calls
from harness.jobs import UNSTABLE, CallJob, CallResult, Limits
from harness.sandbox import Sandbox
from tasks.kinds import output_canon, task_job
from tasks.labels import judge, output_checker
from tasks.suite import Suite

WitnessStatus = Literal["verified", "no_difference", "invalid_input", "unparseable", "reference_failed", "undecided",
                        "suite_conflict", "infra", "none"]
"""``undecided``: the candidate only timed out / ran out of memory / crashed on the witness (after
confirmation alone), which never counts as a catch. ``suite_conflict``: the witness shows a
difference on a candidate the suite labels ``correct``: an error in the harness or the suite,
reported and never counted."""


@dataclass(frozen=True)
class WitnessCheck:
    """Outcome of executing one witness."""

    status: WitnessStatus
    detail: str = ""

    @property
    def verified(self) -> bool:
        return self.status == "verified"


def verify_witnesses(sandbox: Sandbox, suite: Suite, items: Sequence[tuple[str, str, str | None]],
                     labels: Sequence[str | None] | None = None) -> list[WitnessCheck]:
    """Check witnesses for (task_id, candidate code, witness text) items, in order.

    The decision is :mod:`tasks.labels`' rule on the one input: ``verified`` needs a deterministic
    failure (another value, or an exception the reference does not raise). ``labels`` (the suite's
    label of each candidate, where known) turns a difference on a ``correct`` candidate into
    ``suite_conflict``.
    """
    from tasks.contracts import ContractInfraError, check_inputs_many, contract_for

    out: list[WitnessCheck | None] = [None] * len(items)
    pending: list[tuple[int, tuple[Any, ...]]] = []
    for i, (task_id, _code, witness) in enumerate(items):
        if not witness:
            out[i] = WitnessCheck("none")
            continue
        parsed = read_witness(witness)  # nothing the harness cannot encode gets past this
        if parsed.status == "invalid_input":
            out[i] = WitnessCheck("invalid_input", parsed.reason)
            continue
        args = parsed.args
        if args is None:
            out[i] = WitnessCheck("unparseable", f"not a Python literal tuple of arguments: {witness[:200]!r}")
            continue
        contract = contract_for(suite.tasks[task_id])
        if contract is not None and not contract.accepts(args):
            out[i] = WitnessCheck("invalid_input", f"violates the input contract ({(contract.violation(args) or contract.note)[:160]})")
            continue
        pending.append((i, args))
    # A contract's predicate runs in the sandbox (one job per witness); it must accept the witness too.
    try:
        ok = check_inputs_many([(contract_for(suite.tasks[items[i][0]]), [args]) for i, args in pending],
                               sandbox.run_calls)
    except ContractInfraError:
        ok = [[False] for _ in pending]
        for i, _args in pending:
            out[i] = WitnessCheck("infra", "sandbox infrastructure failure (not stored; a re-run retries it)")
    still = []
    for (i, args), (accepted,) in zip(pending, ok):
        if out[i] is None and not accepted:
            out[i] = WitnessCheck("invalid_input", "violates the input contract (the task's validity predicate, "
                                                   "run in the sandbox, rejects it)")
        elif out[i] is None:
            still.append((i, args))
    pending = still
    jobs: list[CallJob] = []
    memory_mb = min(256, sandbox.info().limits.memory_mb)
    for i, args in pending:
        task = suite.tasks[items[i][0]]
        limits = Limits(timeout_s=task.time_limit_s, memory_mb=memory_mb)
        jobs.append(task_job(task, task.reference, [args], limits=limits))
        jobs.append(task_job(task, items[i][1], [args], limits=limits))
    raw = sandbox.run_calls(jobs) if jobs else []

    def select(k: int, res: list[CallResult]) -> list[int]:
        # jobs come in (reference, candidate) pairs: confirm an unstable reference, and an unstable
        # candidate whose reference returned normally (a difference would rest on it).
        if k % 2 == 0:
            return [0] if res[0].status in UNSTABLE else []
        return [0] if res[0].status in UNSTABLE and raw[k - 1][0].status == "ok" else []

    results, _ = confirm_calls(sandbox, jobs, raw, select=select) if jobs else ([], 0)
    for n, (i, args) in enumerate(pending):
        ref, cand = results[2 * n][0], results[2 * n + 1][0]
        task = suite.tasks[items[i][0]]
        if ref.infra or cand.infra:
            out[i] = WitnessCheck("infra", "sandbox infrastructure failure (not stored; a re-run retries it)")
            continue
        if ref.status != "ok":
            out[i] = WitnessCheck("reference_failed", f"the reference does not return normally ({ref.status})")
            continue
        j = judge([cand], [(args, ref.decoded)], unordered=task.unordered_output, checker=output_checker(task),
                  canon=output_canon(task.kind))
        if j.label == "buggy":
            shown = repr(cand.decoded) if cand.status == "ok" else f"{cand.status}: {(cand.error or {}).get('type')}"
            detail = f"expected {ref.decoded!r}, got {shown}"[:300]
            if labels is not None and labels[i] == "correct":
                out[i] = WitnessCheck("suite_conflict", ("the suite labels this candidate correct, yet it differs from the "
                                                         f"reference here ({detail}); please report it")[:400])
            else:
                out[i] = WitnessCheck("verified", detail)
        elif j.label == "undecided":
            out[i] = WitnessCheck("undecided", f"the candidate only hit a resource limit ({j.reason}) after "
                                               "confirmation alone; not a verified catch")
        else:
            out[i] = WitnessCheck("no_difference", "candidate and reference agree on this input")
    return [x if x is not None else WitnessCheck("none") for x in out]


def witness_key(task_id: str, reference: str, code: str, witness: str, image: str) -> str:
    """Content hash of one witness execution (the run store's key)."""
    import hashlib
    import json

    return hashlib.sha256(json.dumps([task_id, reference, code, witness, image]).encode()).hexdigest()


class GoldCheckFailed(RuntimeError):
    """A reference solution does not pass its own hidden tests in this sandbox."""


def gold_self_check(sandbox: Sandbox, suite: Suite, task_ids: Sequence[str]) -> int:
    """Every reference passes its visible and hidden tests in ``sandbox``; returns the number checked.

    Raises:
        GoldCheckFailed: naming the tasks whose reference fails, so a run never scores against a
            sandbox that cannot reproduce the labels.
    """
    from tasks.check import CheckItem, label_items

    ids = sorted(set(task_ids))
    rows = label_items(sandbox, suite, [CheckItem(n, t, suite.tasks[t].reference) for n, t in enumerate(ids, 1)])
    bad = [f"{t} ({row['error'] or str(row.get('n_failed')) + ' failing tests'})"
           for t, row in zip(ids, rows) if row["label"] != "correct"]
    if bad:
        raise GoldCheckFailed(f"gold self-check failed: {len(bad)} reference solution(s) do not pass their hidden tests "
                              f"in this sandbox: {', '.join(bad[:10])}. Check the image (`obench harness doctor`) "
                              "and the suite (`obench tasks stats`).")
    return len(ids)
