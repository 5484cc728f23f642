"""Runs: one evaluation of a reviewer on a suite split, stored, resumable and reported.

Lives here: :mod:`~bench.runs.evaluate` (the run), :mod:`~bench.runs.store` (the SQLite run
store keyed by content hash), :mod:`~bench.runs.rundir` (manifest, predictions, scores,
report) and :mod:`~bench.runs.plots`.

May import: ``bench.reviewing``, ``bench.metrics``, ``bench.models``, ``tasks`` and
``harness``. Imported by ``bench.generation``, ``bench.w2s``, ``leaderboard`` and the CLI.
"""

from bench.runs.evaluate import SUBSET_ITEMS, EvalConfig, EvalError, default_out, evaluate, select_items
from bench.runs.rundir import (
    Prediction,
    RunDirError,
    RunManifest,
    compute_scores,
    load_manifest,
    load_predictions,
    render,
    utc_now,
)

__all__ = ["EvalConfig", "EvalError", "Prediction", "RunDirError", "RunManifest", "SUBSET_ITEMS", "compute_scores",
           "default_out", "evaluate", "load_manifest", "load_predictions", "render", "select_items", "utc_now"]
