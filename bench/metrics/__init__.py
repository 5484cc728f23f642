"""Metrics: a reviewer's scores with task-clustered bootstrap CIs, paired comparisons, and
the gap-recovered ratio behind OGR and PGR.

May import: ``tasks`` (subtlety buckets) and numpy/scipy. Imported by ``bench.runs``,
``bench.generation``, ``bench.w2s``, ``leaderboard`` and the CLI.
"""

from bench.metrics.ratio import Interval, gap_ratio, gap_undefined, percentile_ci, recovered
from bench.metrics.scoring import (
    METRICS,
    PRIMARY,
    Estimate,
    Item,
    auroc,
    breakdowns,
    metric_values,
    oversight_gap_recovered,
    paired_compare,
    paired_compare_all,
    roc_curve,
    score,
    tpr_at_fpr,
)

__all__ = ["METRICS", "PRIMARY", "Estimate", "Interval", "Item", "auroc", "breakdowns", "gap_ratio", "gap_undefined",
           "metric_values", "oversight_gap_recovered", "paired_compare", "paired_compare_all", "percentile_ci",
           "recovered", "roc_curve", "score", "tpr_at_fpr"]
