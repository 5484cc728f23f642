"""Tasks and suites: what a task is, how a suite is built, labelled, stored and loaded.

Lives here: task sources (:mod:`tasks.sources`), input contracts, test augmentation,
mutants and rewrites, **the labelling rule** (:mod:`tasks.labels`: the only definition of
``buggy`` / ``correct`` / ``undecided`` and of subtlety buckets), suite build / check /
generated suites, and the on-disk suite format (:mod:`tasks.suite`) with ``data/``.

May import: ``harness`` only. Imported by ``bench``, ``leaderboard`` and the CLI.
"""
