"""Inspect's entry point (``[project.entry-points.inspect_ai] oversightbench``): importing this module registers
the tasks ``oversightbench/review`` and ``oversightbench/exec``, the scorer, the metrics, the ``exec`` solver and
the ``run`` tool under the ``oversightbench/`` namespace."""

from oversightbench.evals import exec_task, review
from oversightbench.scoring import auroc, catch_at_5pct_fpr, verified_catch_rate, verified_review
from oversightbench.solvers import exec_protocol, run_candidate

__all__ = ["auroc", "catch_at_5pct_fpr", "exec_protocol", "exec_task", "review", "run_candidate", "verified_catch_rate",
           "verified_review"]
