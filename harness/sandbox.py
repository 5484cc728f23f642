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

    def _run_wire(self, wire: dict[str, Any], expected: int, limits: Limits, fresh: bool) -> dict[int, dict[str, Any]]:
        if fresh:
            link = self._start_link()
            try:
                return link.run_job(wire, expected, self._frame_timeout(limits))
            finally:
                link.kill()
        link = self.pool.acquire()
        try:
            out = link.run_job(wire, expected, self._frame_timeout(limits))
        except LinkBroken:
            self.pool.release(link, broken=True)
            raise
        self.pool.release(link)
        return out

    def _one_calls(self, job: CallJob, fresh: bool) -> list[CallResult]:
        n = len(job.inputs)
        if n == 0:
            return []
        try:
            limits = job.limits or self.limits
            got = self._run_wire(job.to_wire(self._job_id(), limits), n, limits, fresh)
        except LinkBroken as exc:
            got = exc.results
            missing = [i for i in range(n) if i not in got]
            fill = infra_call(f"sandbox failed: {exc}", len(missing))
            out = {i: CallResult.from_json(r) for i, r in got.items()}
            out.update(dict(zip(missing, fill)))
            return [out[i] for i in range(n)]
        return [CallResult.from_json(got[i]) for i in range(n)]

    def _one_check(self, job: CheckJob, fresh: bool) -> CheckResult:
        try:
            limits = job.limits or self.limits
            got = self._run_wire(job.to_wire(self._job_id(), limits), 1, limits, fresh)
        except LinkBroken as exc:
            if 0 in exc.results:
                return CheckResult.from_json(exc.results[0])
            return infra_check(f"sandbox failed: {exc}")
        return CheckResult.from_json(got[0])

    def _map(self, fn: Callable[[Any], Any], items: Sequence[Any], fresh: bool) -> list[Any]:
        if fresh or len(items) <= 1:
            return [fn(x) for x in items]
        with ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="obench-job") as ex:
            return list(ex.map(fn, items))

    def run_calls(self, jobs: Sequence[CallJob], *, fresh: bool = False) -> list[list[CallResult]]:
        return self._map(lambda j: self._one_calls(j, fresh), jobs, fresh)

    def run_checks(self, jobs: Sequence[CheckJob], *, fresh: bool = False) -> list[CheckResult]:
        return self._map(lambda j: self._one_check(j, fresh), jobs, fresh)

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
