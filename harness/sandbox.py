"""The ``Sandbox`` protocol, the backend registry, and the shared pooled implementation."""

from __future__ import annotations

import itertools
import json
import queue
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol, runtime_checkable

from harness.jobs import (
    CallJob,
    CallResult,
    CheckJob,
    CheckResult,
    Limits,
    SandboxInfo,
    infra_call,
    infra_check,
)
from harness.links import LinkBroken, RunnerLink
from harness.plugins import SANDBOX_GROUP, load_entry_points, missing_hint

HOST_GRACE_S = 20.0
#: Jobs larger than this (JSON bytes) are never queued behind another job.
QUEUE_AHEAD_BYTES = 32 * 1024


class SandboxError(RuntimeError):
    """A sandbox cannot be created or used; the message says how to fix it."""


def check_job_limits(job: Limits, sandbox: Limits) -> None:
    """Job limits may not exceed the sandbox's, which size its containers.

    Raises:
        SandboxError: naming both limits and the fix.
    """
    if job.memory_mb > sandbox.memory_mb or job.nproc > sandbox.nproc:
        raise SandboxError(
            f"job limits (memory_mb={job.memory_mb}, nproc={job.nproc}) exceed this sandbox's "
            f"(memory_mb={sandbox.memory_mb}, nproc={sandbox.nproc}), which size its containers; "
            "create the sandbox with larger limits"
        )


@runtime_checkable
class Sandbox(Protocol):
    """A place to execute untrusted code.

    Implementations run each job in isolation from every other job and return one
    outcome per input (``run_calls``) or per test program (``run_checks``).
    ``fresh=True`` runs each job alone in a newly started sandbox instance, which
    is how timeouts and crashes are confirmed before they decide a label.
    """

    name: str

    def info(self) -> SandboxInfo: ...

    def run_calls(self, jobs: Sequence[CallJob], *, fresh: bool = False) -> list[list[CallResult]]: ...

    def run_checks(self, jobs: Sequence[CheckJob], *, fresh: bool = False) -> list[CheckResult]: ...

    def close(self) -> None: ...


SandboxFactory = Callable[..., Sandbox]
_REGISTRY: dict[str, SandboxFactory] = {}


def register_sandbox(name: str) -> Callable[[SandboxFactory], SandboxFactory]:
    """Register a sandbox backend under ``name`` (decorator)."""

    def deco(factory: SandboxFactory) -> SandboxFactory:
        _REGISTRY[name] = factory
        return factory

    return deco


def sandbox_names() -> list[str]:
    _load_builtin()
    return sorted(_REGISTRY)


def create_sandbox(name: str, **kwargs: Any) -> Sandbox:
    """Create the backend registered as ``name``.

    Raises:
        SandboxError: for an unknown name (listing the known ones) or a backend
            that cannot start (saying how to fix it).
    """
    _load_builtin()
    if name not in _REGISTRY:
        known = ", ".join(sorted(_REGISTRY))
        raise SandboxError(f"unknown sandbox {name!r}; known sandboxes: {known}"
                           + ("" if _REGISTRY else missing_hint(SANDBOX_GROUP)))
    return _REGISTRY[name](**kwargs)


def _load_builtin() -> None:
    """Backends register where they are defined; their modules are entry points."""
    load_entry_points(SANDBOX_GROUP)


class LinkPool:
    """Warm pool of runner links: replacements start while other links work."""

    def __init__(self, start: Callable[[], RunnerLink], size: int, spare: int = 1) -> None:
        self._start = start
        self._ready: queue.Queue[RunnerLink | BaseException] = queue.Queue()
        self._starter = ThreadPoolExecutor(max_workers=max(1, min(size + spare, 4)), thread_name_prefix="obench-start")
        self._closed = False
        self._all: set[RunnerLink] = set()
        self._lock = threading.Lock()
        for _ in range(size + spare):
            self._submit_start()

    def _start_one(self) -> None:
        if self._closed:
            return
        try:
            link = self._start()
        except BaseException as exc:  # noqa: BLE001 - reported to the acquirer
            self._ready.put(exc)
            return
        with self._lock:
            if self._closed:
                link.kill()
                return
            self._all.add(link)
        self._ready.put(link)

    def acquire(self, timeout: float = 120.0, attempts: int = 3) -> RunnerLink:
        """A ready link; a failed start is retried (``attempts`` in a row) before it is raised."""
        end = time.monotonic() + timeout
        failures: list[BaseException] = []
        while True:
            try:
                item = self._ready.get(timeout=max(0.0, end - time.monotonic()))
            except queue.Empty:
                raise SandboxError(f"no sandbox became ready within {timeout:.0f}s") from None
            if not isinstance(item, BaseException):
                return item
            failures.append(item)
            if not self._closed:
                self._submit_start()
            if len(failures) >= attempts:
                last = failures[-1]
                if isinstance(last, SandboxError):
                    raise last
                raise SandboxError(f"starting a sandbox failed {attempts} times: {last}") from last

    def _submit_start(self) -> None:
        try:
            self._starter.submit(self._start_one)
        except RuntimeError:  # shut down while a job was finishing
            pass

    def release(self, link: RunnerLink, broken: bool = False) -> None:
        if broken or self._closed:
            with self._lock:
                self._all.discard(link)
            threading.Thread(target=link.kill, daemon=True).start()
            if not self._closed:
                self._submit_start()
            return
        self._ready.put(link)

    def links(self) -> list[RunnerLink]:
        with self._lock:
            return list(self._all)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            links = list(self._all)
            self._all.clear()
        self._starter.shutdown(wait=True, cancel_futures=True)
        for link in links:
            link.kill()


class PooledSandbox:
    """Shared logic of the runner-based backends: a warm pool and parallel jobs."""

    name = "pooled"
    #: Seconds the host waits beyond the runner's own limits before it declares the
    #: runner dead and removes its container.
    host_grace_s = HOST_GRACE_S
    #: Jobs queued ahead on each runner.
    window = 2

    def __init__(self, limits: Limits | None = None, workers: int = 2) -> None:
        self.limits = limits or Limits()
        self.workers = max(1, workers)
        self._ids = itertools.count()
        self._pool: LinkPool | None = None
        self._pool_lock = threading.Lock()

    # -- to implement
    def _start_link(self) -> RunnerLink:
        raise NotImplementedError

    def info(self) -> SandboxInfo:
        raise NotImplementedError

    # -- shared
    @property
    def pool(self) -> LinkPool:
        with self._pool_lock:
            if self._pool is None:
                self._pool = LinkPool(self._start_link, self.workers)
            return self._pool

    def warm_up(self) -> None:
        """Start the pool and wait until one runner answers."""
        link = self.pool.acquire()
        self.pool.release(link)

    def _job_id(self) -> str:
        return f"j{next(self._ids)}"

    def _frame_timeout(self, limits: Limits) -> float:
        # Load and first call may each take the limit before a frame arrives.
        return 2 * limits.timeout_s + self.host_grace_s

    def _run_fresh(self, wire: dict[str, Any], expected: int, limits: Limits) -> dict[int, dict[str, Any]]:
        try:
            link = self._start_link()
        except Exception as exc:  # noqa: BLE001 - any start failure is the infrastructure's
            raise LinkBroken(f"could not start a fresh sandbox: {exc}") from exc
        try:
            return link.run_job(wire, expected, self._frame_timeout(limits))
        finally:
            link.kill()

    def _run_pooled(self, items: list[tuple[dict[str, Any], int, Limits]]) -> list[dict[int, dict[str, Any]] | LinkBroken]:
        """Run jobs on the warm pool; each worker keeps up to :attr:`window` jobs queued on its runner.

        Queuing the next job before the current one finishes hides the round trip
        through the container runtime. When a runner breaks, the job it was on gets
        the exception (its partial results inside) and the jobs queued behind it are
        re-run on a fresh runner.
        """
        out: list[dict[int, dict[str, Any]] | LinkBroken | None] = [None] * len(items)
        todo: queue.Queue[int] = queue.Queue()
        for i in range(len(items)):
            todo.put(i)

        sizes = [len(json.dumps(w)) for w, _, _ in items]

        def worker() -> None:
            link: RunnerLink | None = None
            inflight: list[int] = []

            def drop_link() -> None:
                nonlocal link
                for j in inflight:
                    todo.put(j)
                inflight.clear()
                if link is not None:
                    self.pool.release(link, broken=True)
                link = None

            while True:
                # Queue ahead only small jobs on a clean runner: a large request written
                # while the runner writes large results could block both sides.
                while len(inflight) < self.window and (link is None or link.dirty is None):
                    if inflight and (sizes[inflight[-1]] > QUEUE_AHEAD_BYTES or todo.empty()):
                        break
                    try:
                        idx = todo.get_nowait()
                    except queue.Empty:
                        break
                    if inflight and sizes[idx] > QUEUE_AHEAD_BYTES:
                        todo.put(idx)
                        break
                    if link is None:
                        try:
                            link = self.pool.acquire()
                        except Exception as exc:  # noqa: BLE001 - recorded as an infra outcome
                            out[idx] = LinkBroken(f"no sandbox available: {exc}")
                            continue
                    try:
                        link.submit(items[idx][0])
                    except LinkBroken:
                        todo.put(idx)  # never reached the runner: run it elsewhere
                        drop_link()
                        continue
                    inflight.append(idx)
                if not inflight:
                    if todo.empty():
                        break
                    continue
                assert link is not None
                idx = inflight.pop(0)
                wire, expected, limits = items[idx]
                try:
                    out[idx] = link.collect(wire["id"], expected, self._frame_timeout(limits))
                except LinkBroken as exc:
                    out[idx] = exc
                    drop_link()
                    continue
                except Exception as exc:  # noqa: BLE001 - never lose a job to an unexpected error
                    out[idx] = LinkBroken(f"unexpected host error: {type(exc).__name__}: {exc}")
                    drop_link()
                    continue
                if link.dirty is not None:
                    # The runner reports its sandbox unclean: whatever is queued on it reruns elsewhere.
                    drop_link()
            if link is not None:
                self.pool.release(link)

        n_workers = min(self.workers, len(items))
        threads = [threading.Thread(target=worker, name=f"obench-job-{k}") for k in range(n_workers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return [x if x is not None else LinkBroken("job was not run") for x in out]

    def _results(self, wires: list[tuple[dict[str, Any], int, Limits]], fresh: bool) -> list[dict[int, dict[str, Any]] | LinkBroken]:
        if not fresh:
            return self._run_pooled(wires)
        got: list[dict[int, dict[str, Any]] | LinkBroken] = []
        for wire, expected, limits in wires:
            try:
                got.append(self._run_fresh(wire, expected, limits))
            except LinkBroken as exc:
                got.append(exc)
        return got

    def _check_limits(self, limits: Limits) -> None:
        check_job_limits(limits, self.limits)

    def run_calls(self, jobs: Sequence[CallJob], *, fresh: bool = False) -> list[list[CallResult]]:
        wires = []
        for job in jobs:
            limits = job.limits or self.limits
            self._check_limits(limits)
            wires.append((job.to_wire(self._job_id(), limits), len(job.inputs), limits))
        live = [k for k, w in enumerate(wires) if w[1] > 0]
        got = self._results([wires[k] for k in live], fresh)
        out: list[list[CallResult]] = [[] for _ in jobs]
        for k, res in zip(live, got):
            n = wires[k][1]
            if isinstance(res, LinkBroken):
                fill = infra_call(f"sandbox failed: {res}", n)
                out[k] = [CallResult.from_json(res.results[i]) if i in res.results else fill[i] for i in range(n)]
            else:
                out[k] = [CallResult.from_json(res[i]) for i in range(n)]
        return out

    def run_checks(self, jobs: Sequence[CheckJob], *, fresh: bool = False) -> list[CheckResult]:
        wires = []
        for job in jobs:
            limits = job.limits or self.limits
            self._check_limits(limits)
            wires.append((job.to_wire(self._job_id(), limits), 1, limits))
        out: list[CheckResult] = []
        for res in self._results(wires, fresh):
            if isinstance(res, LinkBroken):
                out.append(CheckResult.from_json(res.results[0]) if 0 in res.results else infra_check(f"sandbox failed: {res}"))
            else:
                out.append(CheckResult.from_json(res[0]))
        return out

    def close(self) -> None:
        with self._pool_lock:
            if self._pool is not None:
                self._pool.close()
                self._pool = None

    def __enter__(self) -> PooledSandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

