"""OversightBench inside Inspect AI: ``inspect eval oversightbench/review`` (and ``oversightbench/exec``).

An optional extension (``pip install -e '.[inspect]'``). The import name is the distribution's,
``oversightbench``, because Inspect namespaces an extension's tasks by the top-level package that
defines them: this is what makes the tasks ``oversightbench/review`` and ``oversightbench/exec``.

Lives here: :mod:`~oversightbench.evals` (the tasks), :mod:`~oversightbench.samples` (candidates as
samples, rendered like ``obench eval``), :mod:`~oversightbench.scoring` (the scorer: our parser, our
witness check in Docker; our metrics), :mod:`~oversightbench.solvers` (the ``exec`` protocol and the
``run`` tool), :mod:`~oversightbench.execution` (one hardened Docker sandbox per process, the gold
self-check), :mod:`~oversightbench.importer` (an Inspect log -> a run directory), :mod:`~oversightbench.model`
(``inspect:<provider>/<model>`` as an OversightBench model backend) and :mod:`~oversightbench.offline`
(Inspect's token counting without a network). ``_registry`` is Inspect's entry point.

May import: ``bench``, ``tasks``, ``harness`` and ``inspect_ai``. Imported by nothing of the project
but the CLI (``obench import-inspect``, lazily); Inspect loads it through the ``inspect_ai`` entry
point and ``bench.models`` loads :mod:`~oversightbench.model` through the ``oversightbench.models``
entry point. This file, ``model``, ``offline`` and ``execution`` import no Inspect code, so ``obench``
works without the extra.
"""
