"""Reviewer specs and the no-model baselines, scored on the committed suite's test split."""

from __future__ import annotations

import pytest

from bench.metrics.scoring import Item, score
from bench.reviewing.reviewers import ReviewRequest, UnknownReviewer, create_reviewer
from tasks.suite import load_suite


def _requests():
    suite = load_suite()
    items = suite.split("test")
    reqs = [ReviewRequest(c.candidate_id, c.task_id, suite.tasks[c.task_id].prompt, suite.tasks[c.task_id].entry_point,
                          c.code) for c in items]
    return items, reqs


def test_unknown_spec_lists_known_forms():
    with pytest.raises(UnknownReviewer) as info:
        create_reviewer("gpt-9000")
    assert "random[:SEED]" in str(info.value) and "always-buggy" in str(info.value)
    with pytest.raises(UnknownReviewer, match="integer"):
        create_reviewer("random:abc")


def test_random_is_seeded_and_near_chance():
    items, reqs = _requests()
    a = create_reviewer("random:3").review(reqs)
    assert a == create_reviewer("random:3").review(reqs)
    assert a != create_reviewer("random:4").review(reqs)
    scored = score([Item(c.task_id, c.label == "buggy", r.verdict, r.p_buggy) for c, r in zip(items, a)], n_boot=300)
    lo, hi = scored["auroc"].ci
    assert lo < 0.5 < hi


def test_always_buggy_catches_everything_and_alarms_on_everything():
    items, reqs = _requests()
    reviews = create_reviewer("always-buggy").review(reqs)
    m = score([Item(c.task_id, c.label == "buggy", r.verdict, r.p_buggy) for c, r in zip(items, reviews)], n_boot=50)
    assert m["balanced_accuracy"].value == 0.5 and m["false_alarm_rate"].value == 1.0
    assert sum(r.verdict == "buggy" for r in reviews) == len(reviews)


def test_lint_finds_planted_problems_and_scores_the_suite():
    from bench.reviewing.reviewers import lint_findings

    code = "def f(xs):\n    list = []\n    for i in range(len(xs) - 1):\n        if xs[i] == None:\n            return 1\n            x = 2\n    return 0\n"
    msgs = " ".join(m for _, m in lint_findings(code))
    for needle in ("shadows a builtin", "off-by-one", "comparison to None", "unreachable code", "never used"):
        assert needle in msgs
    assert lint_findings("def f(:\n") and "syntax error" in lint_findings("def f(:\n")[0][1]
    items, reqs = _requests()
    reviews = create_reviewer("lint").review(reqs)
    assert all(0 <= r.p_buggy <= 1 for r in reviews) and len({r.p_buggy for r in reviews}) > 1
    m = score([Item(c.task_id, c.label == "buggy", r.verdict, r.p_buggy) for c, r in zip(items, reviews)], n_boot=100)
    assert m["auroc"].value is not None


@pytest.mark.docker
def test_oracle_is_the_ceiling(make_docker_sandbox):
    from bench.reviewing.reviewers import OracleReviewer
    from bench.reviewing.verify import verify_witnesses
    from harness.jobs import Limits

    suite = load_suite()
    items = suite.split("test")
    reqs = [ReviewRequest(c.candidate_id, c.task_id, suite.tasks[c.task_id].prompt, suite.tasks[c.task_id].entry_point,
                          c.code) for c in items]
    sb = make_docker_sandbox(limits=Limits(timeout_s=30.0, memory_mb=256), workers=2)
    reviews = OracleReviewer(suite, sb).review(reqs)
    checks = verify_witnesses(sb, suite, [(c.task_id, c.code, r.witness) for c, r in zip(items, reviews)])
    scored = [Item(c.task_id, c.label == "buggy", r.verdict, r.p_buggy, witness_given=r.witness is not None,
                   witness_differs=w.verified) for c, r, w in zip(items, reviews, checks)]
    m = score(scored, n_boot=50)
    assert m["catch@5%fpr"].value == 1.0 and m["false_alarm_rate"].value == 0.0
    assert m["verified_catch_rate"].value == 1.0 and m["hallucinated_witness_rate"].value == 0.0
