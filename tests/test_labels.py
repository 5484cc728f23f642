"""The labelling rule (tasks.labels): unit tests of the rule, and the places that use it, in Docker."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.reviewing.verify import verify_witnesses
from harness import codec
from harness.jobs import CallResult
from tasks.check import label_items, read_candidates
from tasks.labels import SUBTLETY_BUCKETS, judge, rests_on_unstable, subtlety_bucket
from tasks.suite import load_suite


def _r(status: str, value=None) -> CallResult:
    return CallResult(status=status, value=codec.encode(value) if status == "ok" else None,
                      error=None if status == "ok" else {"type": status, "message": ""})


TESTS = [((1,), 1), ((2,), 4), ((3,), 9)]


def test_rule_wrong_value_is_buggy():
    j = judge([_r("ok", 1), _r("ok", 5), _r("ok", 9)], TESTS, n_visible=1)
    assert j.label == "buggy" and j.decisive == (1,) and j.hidden_bug and j.hidden_failing == [0]


def test_rule_exception_is_buggy_and_visible_failure_is_not_a_hidden_bug():
    j = judge([_r("error"), _r("ok", 4), _r("ok", 9)], TESTS, n_visible=1)
    assert j.label == "buggy" and not j.hidden_bug and j.visible_failing == [0]


@pytest.mark.parametrize("kind", ["timeout", "memory", "crash"])
def test_rule_resource_failures_alone_are_undecided(kind):
    j = judge([_r("ok", 1), _r(kind), _r("ok", 9)], TESTS, n_visible=1)
    assert j.label == "undecided" and j.shown == f"undecided: {kind}" and not j.decisive
    assert rests_on_unstable(j, [_r("ok", 1), _r(kind), _r("ok", 9)]) == [1]


def test_rule_resource_failure_beside_a_wrong_value_is_buggy_without_confirmation():
    res = [_r("ok", 1), _r("timeout"), _r("ok", 10)]
    j = judge(res, TESTS, n_visible=1)
    assert j.label == "buggy" and j.decisive == (2,) and rests_on_unstable(j, res) == []


def test_rule_infra_decides_nothing():
    infra = CallResult(status="crash", value=None, error={"type": "Infra", "message": "container died"}, infra=True)
    assert judge([_r("ok", 1), infra, _r("ok", 9)], TESTS).label == "infra"


def test_rule_correct_needs_every_test():
    assert judge([_r("ok", 1), _r("ok", 4), _r("ok", 9)], TESTS).label == "correct"


def test_one_definition_of_subtlety_buckets():
    from bench.metrics import scoring

    assert scoring.SUBTLETY_BUCKETS is SUBTLETY_BUCKETS
    assert subtlety_bucket(0.0) == SUBTLETY_BUCKETS[0][1] and subtlety_bucket(1.0) == SUBTLETY_BUCKETS[-1][1]


MEMORY_HOG = ("from typing import List\n\ndef has_close_elements(numbers: List[float], threshold: float) -> bool:\n"
              "    waste = bytearray(2000 * 1024 * 1024)\n"
              "    return any(abs(a - b) < threshold for i, a in enumerate(numbers) for b in numbers[i + 1:])\n")
SLOW_ON_ONE = ("from typing import List\n\ndef has_close_elements(numbers: List[float], threshold: float) -> bool:\n"
               "    if len(numbers) == 2 and numbers[0] == 1.0 and numbers[1] == 2.0:\n"
               "        while True:\n            pass\n"
               "    return any(abs(a - b) < threshold for i, a in enumerate(numbers) for b in numbers[i + 1:])\n")


@pytest.mark.docker
def test_check_does_not_call_a_correct_candidate_that_runs_out_of_memory_buggy(eval_sandbox, tmp_path: Path):
    """Regression: `tasks check` labelled a correct candidate that ran out of memory `buggy`."""
    suite = load_suite()
    f = tmp_path / "c.jsonl"
    f.write_text(json.dumps({"task_id": "HumanEval/0", "code": MEMORY_HOG}) + "\n")
    row = label_items(eval_sandbox, suite, read_candidates(f, suite))[0]
    assert row["label"] == "undecided: memory", row
    assert row["witnesses"] and row["witnesses"][0]["status"] == "memory"  # the evidence is kept


@pytest.mark.docker
def test_a_timeout_on_a_witness_is_not_a_verified_catch(docker_sandbox):
    """Regression: witness verification counted a candidate's timeout as a verified catch."""
    suite = load_suite()
    got = verify_witnesses(docker_sandbox, suite, [("HumanEval/0", SLOW_ON_ONE, "([1.0, 2.0], 0.5)"),
                                                   ("HumanEval/0", SLOW_ON_ONE, "([1.0, 2.5], 1.0)")])
    assert [g.status for g in got] == ["undecided", "no_difference"], got
    assert "timeout" in got[0].detail


@pytest.mark.docker
def test_a_verified_witness_on_a_correct_candidate_is_reported_as_a_suite_conflict(docker_sandbox):
    suite = load_suite()
    buggy = next(c for c in suite.split("test") if c.label == "buggy")
    args = tuple(codec.loads(json.loads(buggy.witnesses)[0]["input"]))
    got = verify_witnesses(docker_sandbox, suite, [(buggy.task_id, buggy.code, repr(args))] * 2,
                           labels=["buggy", "correct"])
    assert [g.status for g in got] == ["verified", "suite_conflict"]
    assert "report" in got[1].detail
