"""The leaderboard: submissions that are re-checked and re-scored, and a static site.

A submission is ``leaderboard/submissions/<name>/`` with exactly ``metadata.json``,
``manifest.json`` and ``predictions.jsonl`` (see :mod:`leaderboard.submission`).
Nothing it claims is trusted: :mod:`leaderboard.validate` re-derives every number
from the predictions, the suite and the harness, and :mod:`leaderboard.site`
renders only what validation recomputed.
"""
