"""``Harness``: a sandbox plus the execution cache and confirmation of unstable outcomes."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from harness.cache import ExecCache
from harness.jobs import UNSTABLE, CallJob, CallResult, CheckJob, CheckResult, SandboxInfo
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


def rerun_infra_calls(sandbox: Sandbox, jobs: Sequence[CallJob], results: list[list[CallResult]],
                      waits: Sequence[float] = INFRA_WAITS) -> list[list[CallResult]]:
    """Re-run the jobs that had an infrastructure outcome, waiting a little longer each round.

    Infrastructure failures (a container or the Docker daemon going away) say nothing about the
    candidate. Each round re-runs only the affected jobs (the pool replaces broken containers);
    what is still ``infra`` after the last round is returned as such, for the caller to report.
    """
    import time

    out = list(results)
    for wait in waits:
        todo = [k for k, res in enumerate(out) if any(r.infra for r in res)]
        if not todo:
            break
        time.sleep(wait)
        again = sandbox.run_calls([jobs[k] for k in todo])
        for k, res in zip(todo, again):
            out[k] = res
    return out


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
        if self.confirm:
            self._confirm_calls(jobs, out, todo)
        if self.cache is not None:
            self.cache.put_many([(keys[i], [r.to_json() for r in out[i]]) for i in todo  # type: ignore[union-attr]
                                 if self._cacheable(out[i])])  # type: ignore[arg-type]
        return out  # type: ignore[return-value]

    def _confirm_calls(self, jobs: Sequence[CallJob], out: list, todo: list[int]) -> None:
        for i in todo:
            unstable = [k for k, r in enumerate(out[i]) if r.status in UNSTABLE]
            if not unstable:
                continue
            again = self.sandbox.run_calls([jobs[i].subset(unstable)], fresh=True)[0]
            self.confirmed += len(unstable)
            merged = list(out[i])
            for k, r in zip(unstable, again):
                merged[k] = r
            out[i] = merged

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
