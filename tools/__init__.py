"""Tools that are not the runtime: the loopback mock OpenAI-compatible server, the
throughput / scaling / harness benchmarks whose tables are in the README, and authoring aids.

May import: ``harness``, ``tasks`` and ``bench``. Imported by tests and by the CLI's
``obench bench`` commands only; no runtime package imports it.
"""
