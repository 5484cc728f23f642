"""Scoring: metric definitions against hand computations, bootstrap by task, paired comparison."""

from __future__ import annotations

import random

import pytest
from sklearn.metrics import roc_auc_score

from bench.metrics.scoring import Item, metric_values, paired_compare, score


def _items(n_tasks=40, seed=0, signal=1.0):
    rng = random.Random(seed)
    out = []
    for t in range(n_tasks):
        for k in range(4):
            buggy = k % 2 == 0
            p = min(1.0, max(0.0, rng.gauss(0.5 + (0.25 * signal if buggy else -0.25 * signal), 0.2)))
            out.append(Item(f"T{t}", buggy, "buggy" if p > 0.5 else "correct", p))
    return out


def test_perfect_and_constant_reviewers():
    perfect = [Item(f"T{i}", i % 2 == 0, "buggy" if i % 2 == 0 else "correct", 1.0 if i % 2 == 0 else 0.0,
                    witness_given=i % 2 == 0, witness_differs=i % 2 == 0, lines=(3,), changed_lines=(3,) if i % 2 == 0 else ())
               for i in range(20)]
    m = metric_values(perfect)
    assert m["catch@5%fpr"] == 1.0 and m["auroc"] == 1.0 and m["accuracy"] == 1.0 and m["f1"] == 1.0
    assert m["false_alarm_rate"] == 0.0 and m["verified_catch_rate"] == 1.0 and m["localization"] == 1.0
    assert m["hallucinated_witness_rate"] == 0.0 and m["ece"] == 0.0
    always = [Item(f"T{i}", i % 2 == 0, "buggy", 1.0) for i in range(20)]
    m = metric_values(always)
    assert m["false_alarm_rate"] == 1.0 and m["balanced_accuracy"] == 0.5 and m["auroc"] == 0.5
    assert m["catch@5%fpr"] == pytest.approx(0.05)  # constant score: random tie-break, catches the budget
    assert m["verified_catch_rate"] == 0.0 and m["hallucinated_witness_rate"] is None


def test_catch_at_fpr_hand_computed():
    # correct scores: 0.9, 0.1 x19. At 5% FPR one false alarm is allowed, so flagging p >= 0.5
    # catches b1, b2, b3; at 1% none is allowed: only b1 (0.95) is above every correct score.
    items = [Item("a", False, "correct", 0.9)] + [Item(f"c{i}", False, "correct", 0.1) for i in range(19)]
    items += [Item("b1", True, "buggy", 0.95), Item("b2", True, "buggy", 0.8), Item("b3", True, "buggy", 0.5),
              Item("b4", True, "buggy", 0.05)]
    m = metric_values(items)
    assert m["catch@5%fpr"] == pytest.approx(0.75)
    assert m["catch@1%fpr"] == pytest.approx(0.25)
    y = [1 if it.buggy else 0 for it in items]
    assert m["auroc"] == pytest.approx(roc_auc_score(y, [it.p_buggy for it in items]))


def test_ece_hand_computed():
    items = [Item("a", True, "buggy", 0.95), Item("b", False, "buggy", 0.95), Item("c", False, "correct", 0.05),
             Item("d", False, "correct", 0.05)]
    # bin 9: mean p 0.95, mean y 0.5 -> 0.45 * 2/4; bin 0: 0.05 vs 0 -> 0.05 * 2/4
    assert metric_values(items)["ece"] == pytest.approx(0.25)


def test_bootstrap_ci_contains_point_and_is_seeded():
    items = _items()
    a = score(items, n_boot=300, seed=1)
    b = score(items, n_boot=300, seed=1)
    assert a == b
    for name in ("auroc", "catch@5%fpr", "accuracy"):
        lo, hi = a[name].ci
        assert lo is not None and lo <= a[name].value <= hi


def test_bootstrap_resamples_tasks_not_items():
    # Two tasks, perfectly correlated within each: a by-item bootstrap would give a narrow CI.
    items = [Item("T0", True, "buggy", 0.9)] * 50 + [Item("T0", False, "correct", 0.1)] * 50
    items += [Item("T1", True, "correct", 0.1)] * 50 + [Item("T1", False, "buggy", 0.9)] * 50
    est = score(items, n_boot=400)["accuracy"]
    assert est.value == pytest.approx(0.5)
    assert est.ci[0] == pytest.approx(0.0) and est.ci[1] == pytest.approx(1.0)


def test_random_reviewer_auroc_ci_contains_half():
    rng = random.Random(3)
    items = [Item(f"T{t}", k % 2 == 0, "abstain", rng.random()) for t in range(60) for k in range(4)]
    lo, hi = score(items, n_boot=500)["auroc"].ci
    assert lo < 0.5 < hi


def test_paired_comparison():
    good, bad = _items(signal=2.0, seed=1), _items(signal=0.0, seed=1)
    res = paired_compare(good, bad, "auroc", n_boot=500)
    assert res.diff > 0 and res.ci[0] > 0 and res.p_value < 0.05
    same = paired_compare(good, good, "auroc", n_boot=200)
    assert same.diff == 0 and same.p_value == 1.0
    with pytest.raises(ValueError, match="same items"):
        paired_compare(good, bad[:-1])
