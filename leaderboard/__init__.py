"""The leaderboard: submissions that are re-checked and re-scored, and a static site.

A submission is ``leaderboard/submissions/<name>/`` (see :mod:`leaderboard.submission`).
Nothing it claims is trusted: :mod:`leaderboard.validate` re-derives every number
from the predictions, the suite and the harness, and :mod:`leaderboard.site`
renders only what validation recomputed. :mod:`leaderboard.reproduce` re-runs a
submission's reviewer on a sample of items, the one check of the raw replies
themselves (entries are shown ``reproduced`` or ``self-reported``). The folders the site reads (submissions,
grids, w2s) are defined here and passed down; nothing below knows them.

May import: ``bench``, ``tasks`` and ``harness``. Imported by the CLI only.
"""
