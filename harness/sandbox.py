"""The ``Sandbox`` protocol, the backend registry, and the shared pooled implementation."""

from __future__ import annotations

import itertools
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

HOST_GRACE_S = 10.0


class SandboxError(RuntimeError):
    """A sandbox cannot be created or used; the message says how to fix it."""


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
        raise SandboxError(f"unknown sandbox {name!r}; known sandboxes: {known}")
    return _REGISTRY[name](**kwargs)


def _load_builtin() -> None:
    import harness.docker_sandbox  # noqa: F401
    import harness.local_sandbox  # noqa: F401


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
            self._starter.submit(self._start_one)

    def _start_one(self) -> None:
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

    def acquire(self, timeout: float = 120.0) -> RunnerLink:
        try:
            item = self._ready.get(timeout=timeout)
        except queue.Empty:
            raise SandboxError(f"no sandbox became ready within {timeout:.0f}s") from None
        if isinstance(item, BaseException):
            self._starter.submit(self._start_one)
            if isinstance(item, SandboxError):
                raise item
            raise SandboxError(f"starting a sandbox failed: {item}") from item
        return item

    def release(self, link: RunnerLink, broken: bool = False) -> None:
        if broken or self._closed:
            with self._lock:
                self._all.discard(link)
            threading.Thread(target=link.kill, daemon=True).start()
            if not self._closed:
                self._starter.submit(self._start_one)
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
        self._starter.shutdown(wait=True)
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
        link = self._start_link()
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

        def worker() -> None:
            link: RunnerLink | None = None
            inflight: list[int] = []
            while True:
                while len(inflight) < self.window:
                    big = any(len(items[j][0].get("code", "")) + len(str(items[j][0].get("inputs", ""))) > 65536
                              for j in inflight)
                    if big:
                        break
                    try:
                        idx = todo.get_nowait()
                    except queue.Empty:
                        break
                    if link is None:
                        link = self.pool.acquire()
                    inflight.append(idx)
                    try:
                        link.submit(items[idx][0])
                    except LinkBroken:
                        break
                if not inflight:
                    break
                assert link is not None
                idx = inflight.pop(0)
                wire, expected, limits = items[idx]
                try:
                    out[idx] = link.collect(wire["id"], expected, self._frame_timeout(limits))
                except LinkBroken as exc:
                    out[idx] = exc
                    for j in inflight:
                        todo.put(j)
                    inflight.clear()
                    self.pool.release(link, broken=True)
                    link = None
                    continue
                if link.dirty is not None and not inflight:
                    # A runner that reports a dirty sandbox (e.g. IPC objects left) is retired.
                    self.pool.release(link, broken=True)
                    link = None
            if link is not None:
                self.pool.release(link, broken=link.dirty is not None)

        n_workers = min(self.workers, len(items))
        threads = [threading.Thread(target=worker, name=f"obench-job-{k}") for k in range(n_workers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return out  # type: ignore[return-value]

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

    def run_calls(self, jobs: Sequence[CallJob], *, fresh: bool = False) -> list[list[CallResult]]:
        wires = []
        for job in jobs:
            limits = job.limits or self.limits
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


def wait_for(predicate: Callable[[], bool], timeout: float, interval: float = 0.05) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()
