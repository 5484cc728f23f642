"""Verified catches: witnesses executed on candidate and reference in the sandbox."""

from __future__ import annotations

import json

import pytest

from bench.reviewing.verify import verify_witnesses
from harness import codec
from tasks.suite import load_suite


@pytest.mark.docker
def test_witness_outcomes(docker_sandbox):
    suite = load_suite()
    buggy = next(c for c in suite.split("test") if c.label == "buggy")
    correct = next(c for c in suite.split("test") if c.label == "correct" and c.task_id == buggy.task_id)
    stored = json.loads(buggy.witnesses)[0]
    args = tuple(codec.loads(stored["input"]))
    witness = repr(args)
    items = [
        (buggy.task_id, buggy.code, witness),           # its own failing input: verified
        (correct.task_id, correct.code, witness),       # a correct candidate: no difference
        (buggy.task_id, buggy.code, "definitely not python"),
        (buggy.task_id, buggy.code, None),
        (buggy.task_id, buggy.code, "(None,)"),          # outside the task's input contract
    ]
    got = verify_witnesses(docker_sandbox, suite, items)
    assert [g.status for g in got] == ["verified", "no_difference", "unparseable", "none", "invalid_input"]
    assert "expected" in got[0].detail
