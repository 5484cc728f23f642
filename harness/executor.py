"""``Harness``: a sandbox plus the execution cache and confirmation of unstable outcomes."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

from harness.cache import ExecCache
from harness.jobs import UNSTABLE, CallJob, CallResult, CheckJob, CheckResult, Limits, SandboxInfo
from harness.sandbox import Sandbox


def runtime_hash() -> str:
    """Hash of the runner and codec sources (part of the cache key on ``local``)."""
    import hashlib

    here = Path(__file__).resolve().parent
    h = hashlib.sha256()
    for name in ("runner.py", "codec.py"):
        h.update((here / name).read_bytes())
    return h.hexdigest()[:16]


INFRA_WAITS = (1.0, 3.0, 6.0)
#: A confirmation re-run gets this many times the job's time limit (and the sandbox's whole memory).
GENEROUS_TIME_FACTOR = 3.0

Selector = Callable[[int, list[CallResult]], Sequence[int]]
"""``select(job_index, results) -> input indices`` whose outcomes must be confirmed alone."""


def unstable_inputs(_: int, results: list[CallResult]) -> list[int]:
    """The default selector: every input whose outcome was a timeout, memory error or crash."""
    return [k for k, r in enumerate(results) if r.status in UNSTABLE]


def generous_limits(job: Limits, sandbox: Limits) -> Limits:
    """The limits of a confirmation re-run: a longer time limit and all of the sandbox's memory."""
    return replace(job, timeout_s=job.timeout_s * GENEROUS_TIME_FACTOR,
                   memory_mb=max(job.memory_mb, sandbox.memory_mb))


def confirm_calls(sandbox: Sandbox, jobs: Sequence[CallJob], results: list[list[CallResult]], *,
                  select: Selector | None = unstable_inputs, waits: Sequence[float] = INFRA_WAITS,
                  sleep: Callable[[float], None] | None = None) -> tuple[list[list[CallResult]], int]:
    """The one way an unstable outcome is re-run before anything is decided from it.

    1. Infrastructure outcomes (a container or the daemon going away) say nothing about the
       candidate: the affected jobs are re-run, waiting ``waits`` seconds before each round;
       what is still ``infra`` after the last round is returned as such, for the caller to report.
    2. Timeouts, memory errors and crashes can come from contention with neighbouring jobs: the
       inputs ``select`` names are re-run alone, in a fresh sandbox instance, with
       :func:`generous_limits`, and their new outcomes replace the old ones. ``select=None``
       skips this step. What is still unstable after it is what the code really does.

    Returns:
        The merged results (same shape as ``results``) and the number of inputs confirmed.
    """
    import time

    pause = sleep or time.sleep
    out = list(results)
    for wait in waits:
        todo = [k for k, res in enumerate(out) if any(r.infra for r in res)]
        if not todo:
            break
        pause(wait)
        for k, res in zip(todo, sandbox.run_calls([jobs[k] for k in todo])):
            out[k] = res
    if select is None:
        return out, 0
    box = sandbox.info().limits
    confirmed = 0
    for k, job in enumerate(jobs):
        idx = list(select(k, out[k]))
        if not idx:
            continue
        sub = job.subset(idx)
        sub = replace(sub, limits=generous_limits(job.limits or box, box))
        again = sandbox.run_calls([sub], fresh=True)[0]
        merged = list(out[k])
        for i, r in zip(idx, again):
            merged[i] = r
        out[k] = merged
        confirmed += len(idx)
    return out, confirmed


def default_cache_path() -> Path:
    base = os.environ.get("OBENCH_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "obench"
    )
    return Path(base) / "exec-cache.sqlite"


class Harness:
    """Runs jobs on a sandbox with caching and confirmation.

    A ``timeout``, ``memory`` or ``crash`` outcome can come from contention with
    neighbouring jobs or from the infrastructure, so with ``confirm=True`` it is
    re-run alone in a fresh sandbox instance before it is returned (and cached).
    Outcomes still marked ``infra`` after that are returned but never cached.

    Args:
        sandbox: the backend that executes.
        cache: an :class:`ExecCache`, or None to disable caching.
        confirm: re-run unstable outcomes alone before they count.
    """

    def __init__(self, sandbox: Sandbox, cache: ExecCache | None = None, confirm: bool = True) -> None:
        self.sandbox = sandbox
        self.cache = cache
        self.confirm = confirm
        self._info = sandbox.info()
        self.confirmed = 0

    @property
    def info(self) -> SandboxInfo:
        return self._info

    def _key(self, job: CallJob | CheckJob) -> str:
        return job.cache_key(self._info.image_digest or f"local:{self._info.python}:{runtime_hash()}", self._info.limits)

    def _cacheable(self, results: list[CallResult] | list[CheckResult]) -> bool:
        """Never cache infra outcomes, nor unstable ones that were not confirmed alone."""
        if any(r.infra for r in results):
            return False
        return self.confirm or not any(r.status in UNSTABLE for r in results)

    def run_calls(self, jobs: Sequence[CallJob]) -> list[list[CallResult]]:
        """One result per input of each job, in order."""
        out: list[list[CallResult] | None] = [None] * len(jobs)
        todo: list[int] = []
        keys = [self._key(j) for j in jobs] if self.cache is not None else []
        for i in range(len(jobs)):
            hit = self.cache.get(keys[i]) if self.cache is not None else None
            if hit is not None:
                out[i] = [CallResult.from_json(r) for r in hit]
            else:
                todo.append(i)
        fresh = self.sandbox.run_calls([jobs[i] for i in todo])
        for i, res in zip(todo, fresh):
            out[i] = res
        if self.confirm and todo:
            merged, n = confirm_calls(self.sandbox, [jobs[i] for i in todo], [out[i] for i in todo],  # type: ignore[misc]
                                      waits=())
            self.confirmed += n
            for i, res in zip(todo, merged):
                out[i] = res
        if self.cache is not None:
            self.cache.put_many([(keys[i], [r.to_json() for r in out[i]]) for i in todo  # type: ignore[union-attr]
                                 if self._cacheable(out[i])])  # type: ignore[arg-type]
        return out  # type: ignore[return-value]

    def run_checks(self, jobs: Sequence[CheckJob]) -> list[CheckResult]:
        """One test-program outcome per job, in order."""
        out: list[CheckResult | None] = [None] * len(jobs)
        todo: list[int] = []
        keys = [self._key(j) for j in jobs] if self.cache is not None else []
        for i in range(len(jobs)):
            hit = self.cache.get(keys[i]) if self.cache is not None else None
            if hit is not None:
                out[i] = CheckResult.from_json(hit)
            else:
                todo.append(i)
        for i, res in zip(todo, self.sandbox.run_checks([jobs[i] for i in todo])):
            out[i] = res
        if self.confirm:
            for i in todo:
                if out[i].status in UNSTABLE:  # type: ignore[union-attr]
                    out[i] = self.sandbox.run_checks([jobs[i]], fresh=True)[0]
                    self.confirmed += 1
        if self.cache is not None:
            self.cache.put_many([(keys[i], out[i].to_json()) for i in todo if self._cacheable([out[i]])])  # type: ignore[union-attr, list-item, arg-type]
        return out  # type: ignore[return-value]

    def close(self) -> None:
        self.sandbox.close()
        if self.cache is not None:
            self.cache.close()

    def __enter__(self) -> Harness:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
