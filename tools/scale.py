"""Scaling benchmark of label verification: the local docker executor against Ray actors.

Every candidate of a split is run against its task's visible and hidden tests, exactly as
``obench tasks check`` does (:func:`tasks.check.label_items`), once per executor:

- ``local``: ``create_sandbox("docker", workers=W)`` in this process;
- ``ray-N``: ``create_sandbox("ray", workers=N)``: N Ray actors with one container each.

Pools (and Ray) are started and warmed before the clock starts; the rate is candidates
per second over ``label_items`` alone. Labels must be identical across executors and
equal to the suite's::

    python -m tools.scale                         # test split: local (2 workers), ray 1 and 2
    python -m tools.scale --split train --ray-workers 1 --ray-workers 2 --ray-workers 4
    python -m tools.scale --ray-address auto      # actors on an existing cluster
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Sequence
from typing import Any

import harness.ray_sandbox  # noqa: F401 - registers the "ray" backend
from harness.jobs import Limits
from harness.sandbox import Sandbox, create_sandbox
from tasks.check import CheckItem, label_items
from tasks.suite import Suite, load_suite

#: The limits ``obench tasks check`` labels with.
LIMITS = Limits(timeout_s=30.0, memory_mb=256)


def _warm(sandbox: Any, suite: Suite, items: list[CheckItem], workers: int) -> None:
    """Start every runner of the pool, then label a few items untimed."""
    pool = getattr(sandbox, "pool", None)
    if pool is not None:
        links = [pool.acquire() for _ in range(max(1, workers))]
        for link in links:
            pool.release(link)
    elif callable(getattr(sandbox, "warm_up", None)):
        sandbox.warm_up()
    label_items(sandbox, suite, items[: 2 * max(1, workers)])


def measure(name: str, sandbox: Sandbox, suite: Suite, items: list[CheckItem], workers: int,
            repeats: int = 1) -> dict[str, Any]:
    """Label ``items`` on a warmed ``sandbox`` ``repeats`` times; the median time counts."""
    _warm(sandbox, suite, items, workers)
    times: list[float] = []
    labels: list[str] = []
    for _ in range(max(1, repeats)):
        t0 = time.perf_counter()
        rows = label_items(sandbox, suite, items)
        times.append(time.perf_counter() - t0)
        labels = [r["label"] for r in rows]
    seconds = statistics.median(times)
    return {"executor": name, "backend": sandbox.info().backend, "workers": workers, "candidates": len(items),
            "seconds": seconds, "times": times, "rate": len(items) / seconds, "labels": labels}


def run(split: str = "test", limit: int = 0, local_workers: int = 2, ray_workers: Sequence[int] = (1, 2),
        ray_address: str | None = None, repeats: int = 1, suite: Suite | None = None) -> list[dict[str, Any]]:
    """Measure every executor; one row each, with ``ratio`` to local and label agreement.

    Args:
        split: suite split whose candidates are labelled.
        limit: only the first N candidates (0: all).
        local_workers: containers of the local docker executor.
        ray_workers: Ray actor counts to measure (one container per actor).
        ray_address: an existing Ray cluster; None starts a local instance per row.
        repeats: timed runs per executor (the median counts).
        suite: the suite (default: the committed one).
    """
    suite = suite or load_suite()
    cands = suite.split(split)
    if limit:
        cands = cands[:limit]
    items = [CheckItem(n, c.task_id, c.code) for n, c in enumerate(cands, 1)]
    expected = [c.label for c in cands]
    rows: list[dict[str, Any]] = []
    local = create_sandbox("docker", limits=LIMITS, workers=local_workers)
    try:
        rows.append(measure("local docker", local, suite, items, local_workers, repeats))
    finally:
        local.close()
    for n in ray_workers:
        sb = create_sandbox("ray", limits=LIMITS, workers=n, address=ray_address)
        try:
            rows.append(measure(f"ray ({n} actor{'s' if n != 1 else ''})", sb, suite, items, n, repeats))
        finally:
            sb.close()
    base = rows[0]
    for r in rows:
        r["ratio"] = r["rate"] / base["rate"]
        r["labels_match_suite"] = r["labels"] == expected
        r["labels_match_local"] = r["labels"] == base["labels"]
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    """The rows as a Markdown table."""
    lines = ["| executor | containers | candidates | seconds | candidates/s | vs local | labels = suite "
             "| labels = local |", "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['executor']} | {r['workers']} | {r['candidates']} | {r['seconds']:.2f} | {r['rate']:.1f} "
                     f"| {r['ratio']:.2f}x | {'yes' if r['labels_match_suite'] else 'NO'} "
                     f"| {'yes' if r['labels_match_local'] else 'NO'} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Command line: ``python -m tools.scale`` (``obench bench scale``). Exit 1 when labels disagree."""
    parser = argparse.ArgumentParser(prog="obench bench scale", description=__doc__.split("\n")[0])
    parser.add_argument("--split", default="test", help="suite split (test: 268 candidates)")
    parser.add_argument("--limit", type=int, default=0, help="only the first N candidates (0 = all)")
    parser.add_argument("--local-workers", type=int, default=2, help="containers of the local docker executor")
    parser.add_argument("--ray-workers", type=int, action="append", help="Ray actors (repeatable; default 1 and 2)")
    parser.add_argument("--ray-address", default=None, help="existing Ray cluster (default: a local instance)")
    parser.add_argument("--repeats", type=int, default=1, help="timed runs per executor (median counts)")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    args = parser.parse_args(argv)
    rows = run(args.split, args.limit, args.local_workers, args.ray_workers or [1, 2], args.ray_address, args.repeats)
    if args.json:
        print(json.dumps([{k: v for k, v in r.items() if k != "labels"} for r in rows], indent=2))
    else:
        print(table(rows))
    return 0 if all(r["labels_match_suite"] and r["labels_match_local"] for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
