"""Reviewing: what a review is, who writes it, and how its claims are checked.

Lives here: :mod:`~bench.reviewing.parse` (the ``Review`` model and the total parser of
model replies and witnesses), :mod:`~bench.reviewing.reviewers` (the ``Reviewer``
protocol, model reviewers and the baselines), :mod:`~bench.reviewing.verify` (witness
execution by the labelling rule, the gold self-check) and
:mod:`~bench.reviewing.protocols` (``exec``, ``critique``, ``consultancy``, ``debate``).

May import: ``bench.models``, ``bench.prompts``, ``tasks`` and ``harness``. Imported by
``bench.runs``, ``bench.w2s``, ``leaderboard`` and the CLI.
"""

from bench.reviewing.parse import Review, parse_review, parse_witness
from bench.reviewing.reviewers import (
    Reviewer,
    ReviewerContext,
    ReviewRequest,
    UnknownReviewer,
    create_reviewer,
    known_forms,
    stream_reviews,
)
from bench.reviewing.verify import GoldCheckFailed, WitnessCheck, gold_self_check, verify_witnesses

__all__ = ["GoldCheckFailed", "Review", "ReviewRequest", "Reviewer", "ReviewerContext", "UnknownReviewer",
           "WitnessCheck", "create_reviewer", "gold_self_check", "known_forms", "parse_review", "parse_witness",
           "stream_reviews", "verify_witnesses"]
