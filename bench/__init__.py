"""Running reviewers and generators against a suite, and scoring them.

Sub-packages follow the data flow:

- :mod:`bench.models`: model backends (``hf:``, ``openai:``; entry points ``oversightbench.models``).
- :mod:`bench.prompts`: versioned prompt templates.
- :mod:`bench.reviewing`: review parsing, reviewers, witness verification, oversight protocols.
- :mod:`bench.runs`: ``evaluate``, the run store, the run directory, reports and plots.
- :mod:`bench.metrics`: scores with task-clustered CIs, paired comparisons, the OGR/PGR ratio rule.
- :mod:`bench.generation`: generators, code extraction, generation runs, the reviewer x generator grid.
- :mod:`bench.w2s`: weak-to-strong training and PGR.

May import: ``tasks`` and ``harness`` (never ``leaderboard``, the CLI or ``tools``).
Imported by ``leaderboard`` and the CLI.
"""
