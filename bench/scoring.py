"""Metrics of a reviewer on a suite split, with bootstrap CIs resampled by task.

Items of one task are correlated (they share a prompt and a reference), so every
confidence interval resamples *tasks* with replacement and recomputes the metric on
all items of the drawn tasks.

Definitions (``p`` is p_buggy, ``y`` = 1 for buggy):

- ``catch@5%fpr`` / ``catch@1%fpr``: the true-positive rate on buggy candidates at the
  threshold where that share of correct candidates is flagged, read off the ROC curve
  with linear interpolation (ties in ``p`` are broken at random, so a constant score
  catches exactly the audit budget).
- ``auroc`` from ``p``; ``accuracy``, ``balanced_accuracy``, ``f1`` from verdicts (an
  ``abstain`` counts as not flagging); ``ece``: expected calibration error of ``p``
  over 10 equal-width bins.
- ``verified_catch_rate``: buggy candidates whose witness made candidate and reference
  differ in the harness, over all buggy candidates.
- ``false_alarm_rate``: correct candidates given verdict ``buggy``.
- ``hallucinated_witness_rate``: witnesses (on any candidate) that showed no difference,
  over witnesses given.
- ``localization``: buggy candidates with known changed lines whose suspected lines hit
  one, over buggy candidates with known changed lines.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

METRICS = ("catch@5%fpr", "catch@1%fpr", "auroc", "accuracy", "balanced_accuracy", "f1", "ece",
           "verified_catch_rate", "false_alarm_rate", "hallucinated_witness_rate", "localization")


@dataclass(frozen=True)
class Item:
    """One scored prediction."""

    task_id: str
    buggy: bool
    verdict: str  # "buggy" | "correct" | "abstain"
    p_buggy: float
    witness_given: bool = False
    witness_differs: bool = False
    lines: tuple[int, ...] = ()
    changed_lines: tuple[int, ...] = ()
    family: str = ""
    subtlety: float = 0.0


@dataclass(frozen=True)
class Estimate:
    """A metric's value and its 95% bootstrap interval (None where undefined)."""

    value: float | None
    ci: tuple[float | None, float | None]

    def to_json(self) -> dict[str, object]:
        return {"value": self.value, "ci": list(self.ci)}


def _roc_tpr_at(p: np.ndarray, y: np.ndarray, fpr_target: float) -> float | None:
    pos, neg = p[y == 1], p[y == 0]
    if len(pos) == 0 or len(neg) == 0:
        return None
    thresholds = np.unique(np.concatenate([p, [np.inf]]))[::-1]
    fpr = [(neg >= t).mean() for t in thresholds]
    tpr = [(pos >= t).mean() for t in thresholds]
    # Last ROC point within the budget, then a random tie-break along the next segment.
    k = max(i for i, f in enumerate(fpr) if f <= fpr_target)
    if k + 1 >= len(fpr) or fpr[k] == fpr_target:
        return float(tpr[k])
    f0, f1, t0, t1 = fpr[k], fpr[k + 1], tpr[k], tpr[k + 1]
    return float(t0 + (t1 - t0) * (fpr_target - f0) / (f1 - f0))


def _auroc(p: np.ndarray, y: np.ndarray) -> float | None:
    pos, neg = p[y == 1], p[y == 0]
    if len(pos) == 0 or len(neg) == 0:
        return None
    # Mann-Whitney U with ties counted half.
    order = np.argsort(np.concatenate([pos, neg]), kind="mergesort")
    ranks = np.empty(len(order))
    values = np.concatenate([pos, neg])[order]
    i = 0
    while i < len(values):
        j = i
        while j + 1 < len(values) and values[j + 1] == values[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2 + 1
        i = j + 1
    u = ranks[: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2
    return float(u / (len(pos) * len(neg)))


def _ece(p: np.ndarray, y: np.ndarray, bins: int = 10) -> float | None:
    if len(p) == 0:
        return None
    idx = np.minimum((p * bins).astype(int), bins - 1)
    total = 0.0
    for b in range(bins):
        m = idx == b
        if m.any():
            total += m.sum() / len(p) * abs(p[m].mean() - y[m].mean())
    return float(total)


def metric_values(items: Sequence[Item]) -> dict[str, float | None]:
    """Every metric on ``items`` (None where undefined, e.g. no buggy items)."""
    y = np.array([1 if it.buggy else 0 for it in items])
    p = np.array([min(1.0, max(0.0, float(it.p_buggy))) for it in items], dtype=float)
    flag = np.array([1 if it.verdict == "buggy" else 0 for it in items])
    n_pos, n_neg = int(y.sum()), int(len(y) - y.sum())
    out: dict[str, float | None] = {}
    out["catch@5%fpr"] = _roc_tpr_at(p, y, 0.05)
    out["catch@1%fpr"] = _roc_tpr_at(p, y, 0.01)
    out["auroc"] = _auroc(p, y)
    out["accuracy"] = float((flag == y).mean()) if len(y) else None
    tpr = float(flag[y == 1].mean()) if n_pos else None
    tnr = float(1 - flag[y == 0].mean()) if n_neg else None
    out["balanced_accuracy"] = (tpr + tnr) / 2 if tpr is not None and tnr is not None else None
    tp = int(((flag == 1) & (y == 1)).sum())
    fp = int(((flag == 1) & (y == 0)).sum())
    fn = int(((flag == 0) & (y == 1)).sum())
    out["f1"] = 2 * tp / (2 * tp + fp + fn) if (2 * tp + fp + fn) else None
    out["ece"] = _ece(p, y)
    out["verified_catch_rate"] = (sum(1 for it in items if it.buggy and it.witness_differs) / n_pos) if n_pos else None
    out["false_alarm_rate"] = float(flag[y == 0].mean()) if n_neg else None
    given = [it for it in items if it.witness_given]
    out["hallucinated_witness_rate"] = (sum(1 for it in given if not it.witness_differs) / len(given)) if given else None
    known = [it for it in items if it.buggy and it.changed_lines]
    out["localization"] = (sum(1 for it in known if set(it.lines) & set(it.changed_lines)) / len(known)) if known else None
    return out


def _by_task(items: Sequence[Item]) -> tuple[list[str], dict[str, list[Item]]]:
    groups: dict[str, list[Item]] = defaultdict(list)
    for it in items:
        groups[it.task_id].append(it)
    return sorted(groups), groups


def _percentile_ci(samples: list[float]) -> tuple[float | None, float | None]:
    if len(samples) < 10:
        return (None, None)
    lo, hi = np.percentile(samples, [2.5, 97.5])
    return (float(lo), float(hi))


def score(items: Sequence[Item], n_boot: int = 1000, seed: int = 0) -> dict[str, Estimate]:
    """Every metric with a 95% bootstrap CI resampled by task."""
    point = metric_values(items)
    tasks, groups = _by_task(items)
    rng = np.random.default_rng(seed)
    samples: dict[str, list[float]] = {m: [] for m in METRICS}
    for _ in range(n_boot):
        drawn: Sequence[int] = rng.integers(0, len(tasks), len(tasks)).tolist() if tasks else []
        resample = [it for k in drawn for it in groups[tasks[k]]]
        for m, v in metric_values(resample).items():
            if v is not None and not math.isnan(v):
                samples[m].append(v)
    return {m: Estimate(point[m], _percentile_ci(samples[m])) for m in METRICS}


@dataclass(frozen=True)
class Paired:
    """Difference A - B of one metric on the same items."""

    metric: str
    a: float | None
    b: float | None
    diff: float | None
    ci: tuple[float | None, float | None]
    p_value: float | None
    n_items: int = 0
    notes: list[str] = field(default_factory=list)


def paired_compare(a: Sequence[Item], b: Sequence[Item], metric: str = "catch@5%fpr", n_boot: int = 2000,
                   seed: int = 0) -> Paired:
    """Paired bootstrap by task on the items both runs scored (matched by task and position key).

    ``a`` and ``b`` must describe the same candidates in the same order; the
    p-value is two-sided: twice the smaller tail of the bootstrap difference at 0.
    """
    if len(a) != len(b) or any(x.task_id != y.task_id or x.buggy != y.buggy for x, y in zip(a, b)):
        raise ValueError("paired comparison needs the same items, in the same order, in both runs")
    fn: Callable[[Sequence[Item]], float | None] = lambda its: metric_values(its)[metric]  # noqa: E731
    va, vb = fn(a), fn(b)
    tasks, _ = _by_task(a)
    index: dict[str, list[int]] = defaultdict(list)
    for i, it in enumerate(a):
        index[it.task_id].append(i)
    rng = np.random.default_rng(seed)
    diffs = []
    for _ in range(n_boot):
        drawn = rng.integers(0, len(tasks), len(tasks))
        idx = [i for k in drawn for i in index[tasks[k]]]
        x, y = fn([a[i] for i in idx]), fn([b[i] for i in idx])
        if x is not None and y is not None:
            diffs.append(x - y)
    if va is None or vb is None or len(diffs) < 10:
        return Paired(metric, va, vb, None, (None, None), None, len(a), ["undefined on these items"])
    d = np.array(diffs)
    p = float(min(1.0, 2 * min((d <= 0).mean(), (d >= 0).mean())))
    lo, hi = np.percentile(d, [2.5, 97.5])
    return Paired(metric, va, vb, va - vb, (float(lo), float(hi)), p, len(a))
