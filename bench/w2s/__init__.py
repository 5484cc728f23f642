"""Weak-to-strong supervision for code review.

A weak supervisor's verdicts (p_buggy) on the train split become training labels for a
stronger student that learns to predict buggy; on the test split we measure the
performance gap recovered::

    PGR = (P_w2s - P_weak) / (P_ceiling - P_weak)

where ``P_weak`` is the weak supervisor's own score (the floor), ``P_w2s`` the student
trained on weak labels, and ``P_ceiling`` the same student trained on the ground truth,
for ``P`` in (AUROC, catch@5%fpr).

Typical use::

    from bench.w2s import W2SConfig, create_student, load_data, ngram_weak, run_w2s
    data = load_data(suite)
    res = run_w2s(W2SConfig(methods=("naive", "aux-conf")), data, ngram_weak(suite, data),
                  create_student("minilm"), out)

Modules: :mod:`~bench.w2s.weak` (supervisors), :mod:`~bench.w2s.students` (encoders and the
embedding cache), :mod:`~bench.w2s.losses` and :mod:`~bench.w2s.train` (methods),
:mod:`~bench.w2s.pgr` (PGR and its intervals), :mod:`~bench.w2s.experiment` (the run),
:mod:`~bench.w2s.records` (files written), :mod:`~bench.w2s.report` (report, plot, summary).

May import: ``bench.models``, ``bench.reviewing``, ``bench.runs``, ``bench.metrics``, ``tasks``
and ``harness``. Imported by ``leaderboard`` (the w2s view) and the CLI.
"""

from __future__ import annotations

from bench.w2s.data import Example, W2SData, W2SError, load_data, student_text
from bench.w2s.experiment import W2SConfig, load_results, recompute_results, run_w2s, score_w2s
from bench.w2s.losses import alpha_at, aux_conf_loss, hardened, naive_loss
from bench.w2s.pgr import PGR_METRICS, pgr_stats
from bench.w2s.records import W2SManifest, W2SPrediction, W2SResults
from bench.w2s.report import leaderboard_summary
from bench.w2s.students import Encoder, HFEncoder, create_student, embed
from bench.w2s.train import METHODS, TrainConfig, check_methods
from bench.w2s.weak import WeakLabels, ngram_weak, resolve_weak, weak_from_runs, weak_from_spec

__all__ = ["METHODS", "PGR_METRICS", "Encoder", "Example", "HFEncoder", "TrainConfig", "W2SConfig", "W2SData",
           "W2SError", "W2SManifest", "W2SPrediction", "W2SResults", "WeakLabels", "alpha_at", "aux_conf_loss",
           "check_methods", "create_student", "embed", "hardened", "leaderboard_summary", "load_data", "load_results",
           "naive_loss", "ngram_weak", "pgr_stats", "recompute_results", "resolve_weak", "run_w2s", "score_w2s",
           "student_text", "weak_from_runs",
           "weak_from_spec"]
