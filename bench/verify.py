"""Verified catches: a review's witness input, executed on candidate and reference.

A witness counts only when it parses as call arguments, satisfies the task's input
contract, the reference returns normally on it, and the candidate's outcome differs
(another value, or an exception the reference does not raise). Everything runs in
the sandbox; the comparison happens on the host.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from bench.review import parse_witness
from harness.jobs import CallJob, Limits
from harness.sandbox import Sandbox
from tasks.compare import failing_indices
from tasks.suite import Suite

WitnessStatus = Literal["verified", "no_difference", "invalid_input", "unparseable", "reference_failed", "none"]


@dataclass(frozen=True)
class WitnessCheck:
    """Outcome of executing one witness."""

    status: WitnessStatus
    detail: str = ""

    @property
    def verified(self) -> bool:
        return self.status == "verified"


def verify_witnesses(sandbox: Sandbox, suite: Suite, items: Sequence[tuple[str, str, str | None]]) -> list[WitnessCheck]:
    """Check witnesses for (task_id, candidate code, witness text) items, in order."""
    from tasks.contracts.humaneval import CONTRACTS

    out: list[WitnessCheck | None] = [None] * len(items)
    pending: list[tuple[int, tuple[Any, ...]]] = []
    for i, (task_id, _code, witness) in enumerate(items):
        if not witness:
            out[i] = WitnessCheck("none")
            continue
        args = parse_witness(witness)
        if args is None:
            out[i] = WitnessCheck("unparseable", f"not a Python literal tuple of arguments: {witness[:200]!r}")
            continue
        contract = CONTRACTS.get(task_id)
        if contract is not None and not contract.accepts(args):
            out[i] = WitnessCheck("invalid_input", f"violates the input contract ({contract.note[:160]})")
            continue
        pending.append((i, args))
    jobs: list[CallJob] = []
    memory_mb = min(256, sandbox.info().limits.memory_mb)
    for i, args in pending:
        task = suite.tasks[items[i][0]]
        limits = Limits(timeout_s=task.time_limit_s, memory_mb=memory_mb)
        jobs.append(CallJob.create(task.reference, task.entry_point, [args], limits=limits))
        jobs.append(CallJob.create(items[i][1], task.entry_point, [args], limits=limits))
    results = sandbox.run_calls(jobs) if jobs else []
    for n, (i, args) in enumerate(pending):
        ref, cand = results[2 * n][0], results[2 * n + 1][0]
        task = suite.tasks[items[i][0]]
        contract = CONTRACTS.get(task.task_id)
        if ref.infra or cand.infra:
            out[i] = WitnessCheck("reference_failed", "sandbox infrastructure failure")
        elif ref.status != "ok":
            out[i] = WitnessCheck("reference_failed", f"the reference does not return normally ({ref.status})")
        elif failing_indices([cand], [(args, ref.decoded)], unordered=task.unordered_output,
                             valid_output=contract.valid_output if contract else None):
            shown = repr(cand.decoded) if cand.status == "ok" else f"{cand.status}: {(cand.error or {}).get('type')}"
            out[i] = WitnessCheck("verified", f"expected {ref.decoded!r}, got {shown}"[:300])
        else:
            out[i] = WitnessCheck("no_difference", "candidate and reference agree on this input")
    return [x if x is not None else WitnessCheck("none") for x in out]
