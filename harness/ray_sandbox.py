"""The ``ray`` sandbox: jobs spread over Ray actors, each owning a sandbox of another backend.

Each :class:`SandboxActor` creates its own sandbox (``docker`` by default) inside the actor
process, so on a multi-node cluster every node runs containers from its own Docker pool.
The driver splits a batch into chunks of consecutive jobs, keeps every actor busy (one
chunk running, one queued), and reassembles results in input order. Jobs and results
cross the Ray boundary as the frozen dataclasses of :mod:`harness.jobs` (they pickle by
reference to this package, which every node must have installed).

Fault tolerance: actors restart after a crash (``max_restarts``) and Ray re-runs the
task they were on (``max_task_retries``); a chunk whose actor is gone for good is then
sent once more to another live actor, and only after that does it become ``infra``
outcomes. A batch never raises for a lost actor and never loses an item.

Ray is imported lazily: the rest of :mod:`harness` does not need it.
"""

from __future__ import annotations

import logging
import math
import os
import shutil
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from harness.jobs import CallJob, CallResult, CheckJob, CheckResult, Limits, SandboxInfo, infra_call, infra_check
from harness.sandbox import SandboxError, check_job_limits, create_sandbox, register_sandbox

#: Largest chunk of jobs sent to an actor in one task.
MAX_CHUNK = 32
#: Chunks per actor a batch is at least split into (balances the tail).
CHUNKS_PER_ACTOR = 4
#: Chunks in flight per actor: one running, one queued behind it.
DEPTH = 2
#: Driver-side attempts per chunk (each on top of Ray's own task retries).
CHUNK_ATTEMPTS = 2
#: Seconds to wait for actors to start (and their sandboxes to be created).
START_TIMEOUT_S = 180.0
#: Seconds to wait for a replacement actor, and before trying again after one fails.
REVIVE_TIMEOUT_S = 60.0
REVIVE_BACKOFF_S = 300.0

J = TypeVar("J", CallJob, CheckJob)
R = TypeVar("R")

_lock = threading.Lock()
_owned_users = 0  # holders of the Ray instance / connection this process initialised
_owned_temp: str | None = None


def ray_connect(address: str | None = None, num_cpus: int | None = None) -> bool:
    """Make sure this process is connected to Ray.

    With ``address`` it connects to that cluster (``"auto"`` finds a local ``ray start``);
    without it a local instance starts (``num_cpus`` CPUs, dashboard off, a private temp
    dir). A connection made by someone else is joined as is.

    Returns:
        True when the caller holds a reference on a connection this module made and must
        give it back with :func:`ray_release`; False when Ray was already initialised by
        someone else (never shut down here).

    Raises:
        SandboxError: Ray is not installed or cannot start / connect.
    """
    global _owned_users, _owned_temp
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    if address is None:
        os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    try:
        import ray
    except ImportError as exc:
        raise SandboxError(f"the ray executor needs Ray: pip install 'ray>=2.20' ({exc})") from None
    with _lock:
        if ray.is_initialized():
            if _owned_users > 0:
                _owned_users += 1
                return True
            return False
        kwargs: dict[str, Any] = {"ignore_reinit_error": True, "log_to_driver": False,
                                  "logging_level": logging.WARNING}
        temp: str | None = None
        try:
            if address is not None:
                ray.init(address=address, **kwargs)
            else:
                temp = tempfile.mkdtemp(prefix="obench-ray-")
                ray.init(num_cpus=max(1, num_cpus or 1), include_dashboard=False, _temp_dir=temp, **kwargs)
        except Exception as exc:  # noqa: BLE001 - reported with how to fix it
            if temp is not None:
                shutil.rmtree(temp, ignore_errors=True)
            where = f"the Ray cluster at {address}" if address else "a local Ray instance"
            raise SandboxError(f"cannot start or reach {where}: {type(exc).__name__}: {exc}") from None
        _owned_users = 1
        _owned_temp = temp
        return True


def ray_release() -> None:
    """Give back a reference from :func:`ray_connect`; the last one shuts Ray down (or disconnects)."""
    global _owned_users, _owned_temp
    import ray

    with _lock:
        if _owned_users <= 0:
            return
        _owned_users -= 1
        if _owned_users:
            return
        ray.shutdown()
        if _owned_temp is not None:
            shutil.rmtree(_owned_temp, ignore_errors=True)
            _owned_temp = None


def short_error(exc: BaseException, limit: int = 300) -> str:
    """One line naming the exception (Ray errors carry whole tracebacks)."""
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    text = f"{type(exc).__name__}: {lines[0] if lines else ''}"
    return text if len(text) <= limit else text[: limit - 3] + "..."


class SandboxActor:
    """Body of one Ray actor: a sandbox of ``backend`` created inside the actor process.

    A failure to create the sandbox is kept and reported by :meth:`hello` so the driver
    can raise a readable :class:`SandboxError` instead of a Ray traceback.
    """

    def __init__(self, backend: str, options: dict[str, Any]) -> None:
        self.sandbox: Any = None
        self.error: str | None = None
        try:
            self.sandbox = create_sandbox(backend, **options)
        except Exception as exc:  # noqa: BLE001 - reported through hello()
            self.error = f"{type(exc).__name__}: {exc}"

    def hello(self) -> dict[str, Any]:
        """pid, node id, and the inner sandbox's info (or why it could not be created)."""
        import ray

        node = ray.get_runtime_context().get_node_id()
        info = self.sandbox.info() if self.sandbox is not None else None
        return {"pid": os.getpid(), "node": node, "error": self.error, "info": info}

    def _ready(self) -> Any:
        if self.sandbox is None:
            raise SandboxError(f"sandbox could not be created on this node: {self.error}")
        return self.sandbox

    def warm_up(self) -> None:
        warm = getattr(self._ready(), "warm_up", None)
        if callable(warm):
            warm()

    def run_calls(self, jobs: list[CallJob], fresh: bool) -> list[list[CallResult]]:
        return self._ready().run_calls(jobs, fresh=fresh)  # type: ignore[no-any-return]

    def run_checks(self, jobs: list[CheckJob], fresh: bool) -> list[CheckResult]:
        return self._ready().run_checks(jobs, fresh=fresh)  # type: ignore[no-any-return]

    def close(self) -> None:
        if self.sandbox is not None:
            self.sandbox.close()
            self.sandbox = None


@register_sandbox("ray")
class RaySandbox:
    """Execution spread over Ray actors, each with its own pooled sandbox.

    Args:
        limits: default job limits (also size each actor's containers).
        workers: actors to start (each needs ``actor_cpus`` CPUs of the cluster).
        address: Ray cluster address (``"auto"``, ``"ray://host:10001"``, ``"host:6379"``);
            None starts a local instance with ``workers`` CPUs.
        backend: sandbox backend each actor creates (``docker``; ``local`` for trusted code).
        per_actor_workers: runners working at once inside each actor's sandbox.
        chunk_size: jobs per Ray task; None picks ``ceil(n / (4 * actors))`` capped at 32.
        max_restarts: restarts of a crashed actor (-1: unlimited).
        max_task_retries: re-runs of a task whose actor crashed (-1: unlimited).
        actor_cpus: CPUs each actor reserves.
        backend_options: extra keyword arguments for the inner backend (e.g. ``{"quiet": True}``).
        runtime_env: Ray runtime environment for the actors (e.g. to ship this package).

    Raises:
        SandboxError: Ray cannot start / connect, actors cannot be placed in time, an
            inner sandbox cannot be created, or nodes disagree on the image.
    """

    name = "ray"

    def __init__(self, limits: Limits | None = None, workers: int | None = None, address: str | None = None,
                 backend: str = "docker", per_actor_workers: int = 1, chunk_size: int | None = None,
                 max_restarts: int = 3, max_task_retries: int = 3, actor_cpus: float = 1.0,
                 backend_options: dict[str, Any] | None = None, runtime_env: dict[str, Any] | None = None) -> None:
        if backend == "ray":
            raise SandboxError("the ray sandbox cannot wrap itself; pick backend='docker' or 'local'")
        self.limits = limits or Limits()
        self.workers = max(1, workers or 2)
        self.address = address
        self.backend = backend
        self.per_actor_workers = max(1, per_actor_workers)
        self.chunk_size = chunk_size
        self._options = {"limits": self.limits, "workers": self.per_actor_workers, **(backend_options or {})}
        self._owns_ray = ray_connect(address, num_cpus=math.ceil(self.workers * actor_cpus))
        self._closed = False
        self._lock = threading.Lock()
        self._next_revive = 0.0
        import ray

        self._actor_cls = ray.remote(SandboxActor).options(  # type: ignore[attr-defined]
            max_restarts=max_restarts, max_task_retries=max_task_retries, num_cpus=actor_cpus,
            scheduling_strategy="SPREAD", **({"runtime_env": runtime_env} if runtime_env else {}))
        self._actors: list[Any] = []
        self._alive: list[bool] = []
        self._nodes: list[str] = []
        try:
            self._actors = [self._actor_cls.remote(backend, self._options) for _ in range(self.workers)]
            self._alive = [True] * self.workers
            hellos = self._hellos(START_TIMEOUT_S)
        except BaseException:
            self.close()
            raise
        self._nodes = [h["node"] for h in hellos]
        self._inner: SandboxInfo = hellos[0]["info"]

    # -- set-up
    def _hellos(self, timeout: float) -> list[dict[str, Any]]:
        import ray

        refs = [a.hello.remote() for a in self._actors]
        ready, _ = ray.wait(refs, num_returns=len(refs), timeout=timeout)
        if len(ready) < len(refs):
            total = ray.cluster_resources().get("CPU", 0)
            raise SandboxError(f"only {len(ready)} of {len(refs)} Ray sandbox actors started within {timeout:.0f}s "
                               f"(the cluster has {total:g} CPUs; each actor needs its share): lower --workers "
                               "or add nodes")
        try:
            hellos: list[dict[str, Any]] = ray.get(refs)
        except Exception as exc:  # noqa: BLE001 - an actor process that could not start at all
            raise SandboxError(f"a Ray sandbox actor failed to start: {short_error(exc)}") from None
        errors = sorted({h["error"] for h in hellos if h["error"]})
        if errors:
            raise SandboxError(f"the {self.backend!r} sandbox could not be created inside a Ray actor: {errors[0]}")
        digests = {h["info"].image_digest for h in hellos}
        if len(digests) > 1:
            raise SandboxError(f"Ray nodes run different sandbox images {sorted(map(str, digests))}: results would "
                               "not be comparable; build the same image on every node")
        return hellos

    def _revive(self) -> None:
        """Replace actors that died for good (Ray restarts a crashed one only ``max_restarts`` times).

        A replacement that does not start is not tried again for :data:`REVIVE_BACKOFF_S`;
        the live actors carry the work meanwhile.
        """
        import ray

        with self._lock:
            if all(self._alive) or self._closed or time.monotonic() < self._next_revive:
                return
            for k, alive in enumerate(self._alive):
                if alive:
                    continue
                try:
                    ray.kill(self._actors[k], no_restart=True)
                except Exception:  # noqa: BLE001 - already gone
                    pass
                actor: Any = self._actor_cls.remote(self.backend, self._options)
                hello: dict[str, Any]
                try:
                    hello = ray.get(actor.hello.remote(), timeout=REVIVE_TIMEOUT_S)
                except Exception:  # noqa: BLE001 - the slot stays empty
                    hello = {"error": "did not start"}
                self._actors[k] = actor
                if hello.get("error"):
                    self._next_revive = time.monotonic() + REVIVE_BACKOFF_S
                    continue
                self._nodes[k] = hello["node"]
                self._alive[k] = True

    # -- Sandbox protocol
    def info(self) -> SandboxInfo:
        """Backend ``ray`` with the inner sandbox's image, isolation and Python."""
        inner = self._inner
        return SandboxInfo(backend="ray", isolated=inner.isolated, image_tag=inner.image_tag,
                           image_digest=inner.image_digest, workers=self.workers * self.per_actor_workers,
                           limits=self.limits, python=inner.python)

    def _check_limits(self, limits: Limits | None) -> None:
        check_job_limits(limits or self.limits, self.limits)

    def run_calls(self, jobs: Sequence[CallJob], *, fresh: bool = False) -> list[list[CallResult]]:
        """One result per input of each job, in order (see :class:`harness.sandbox.Sandbox`)."""
        for job in jobs:
            self._check_limits(job.limits)
        return self._run("run_calls", list(jobs), fresh,
                         lambda job, why: infra_call(f"sandbox failed: {why}", len(job.inputs)),
                         lambda job, res: isinstance(res, list) and len(res) == len(job.inputs))

    def run_checks(self, jobs: Sequence[CheckJob], *, fresh: bool = False) -> list[CheckResult]:
        """One test-program outcome per job, in order."""
        for job in jobs:
            self._check_limits(job.limits)
        return self._run("run_checks", list(jobs), fresh, lambda job, why: infra_check(f"sandbox failed: {why}"),
                         lambda job, res: isinstance(res, CheckResult))

    def _chunks(self, n: int, fresh: bool) -> list[tuple[int, int]]:
        if fresh:
            size = 1  # fresh jobs run alone: one per node at a time
        elif self.chunk_size:
            size = self.chunk_size
        else:
            size = max(1, min(MAX_CHUNK, math.ceil(n / (CHUNKS_PER_ACTOR * len(self._actors)))))
        return [(a, min(n, a + size)) for a in range(0, n, size)]

    def _run(self, method: str, jobs: list[J], fresh: bool, fill: Callable[[J, str], R],
             valid: Callable[[J, Any], bool]) -> list[R]:
        """Dispatch chunks over the actors (least loaded first) and reassemble results in order."""
        import ray
        from ray.exceptions import RayActorError

        if self._closed:
            raise SandboxError("this ray sandbox is closed")
        if not jobs:
            return []
        self._revive()
        with self._lock:
            actors, nodes, alive = list(self._actors), list(self._nodes), list(self._alive)
        chunks = self._chunks(len(jobs), fresh)
        out: list[R | None] = [None] * len(jobs)
        todo = deque(range(len(chunks)))
        tries = [0] * len(chunks)
        load = [0] * len(actors)
        inflight: dict[Any, tuple[int, int]] = {}

        def give_up(c: int, why: str) -> None:
            a, b = chunks[c]
            for i in range(a, b):
                out[i] = fill(jobs[i], why)

        while todo or inflight:
            while todo:
                busy_nodes = {nodes[k] for k in range(len(actors)) if load[k]}
                free = [k for k in range(len(actors)) if alive[k] and load[k] < DEPTH
                        and not (fresh and nodes[k] in busy_nodes)]
                if not free:
                    break
                k = min(free, key=lambda s: load[s])
                c = todo.popleft()
                a, b = chunks[c]
                ref = getattr(actors[k], method).remote(jobs[a:b], fresh)
                inflight[ref] = (c, k)
                load[k] += 1
                tries[c] += 1
            if not inflight:  # no live actor left
                while todo:
                    give_up(todo.popleft(), "every Ray sandbox actor died")
                break
            done, _ = ray.wait(list(inflight), num_returns=1)
            for ref in done:
                c, k = inflight.pop(ref)
                load[k] -= 1
                a, b = chunks[c]
                try:
                    got = ray.get(ref)
                except RayActorError as exc:
                    alive[k] = False
                    with self._lock:
                        if self._actors[k] is actors[k]:
                            self._alive[k] = False
                    if tries[c] < CHUNK_ATTEMPTS and any(alive):
                        todo.append(c)
                    else:
                        give_up(c, f"Ray actor lost: {short_error(exc)}")
                    continue
                except Exception as exc:  # noqa: BLE001 - never lose a chunk to an unexpected error
                    give_up(c, f"Ray sandbox task failed: {short_error(exc)}")
                    continue
                if not isinstance(got, list) or len(got) != b - a:
                    give_up(c, "Ray sandbox actor returned a malformed batch")
                    continue
                for i, res in zip(range(a, b), got):
                    out[i] = res if valid(jobs[i], res) else fill(jobs[i], "Ray sandbox actor returned a malformed result")
        return [r if r is not None else fill(jobs[i], "job was not run") for i, r in enumerate(out)]

    # -- extras
    def warm_up(self) -> None:
        """Start every actor's pool and wait until each has a runner ready."""
        import ray

        ray.get([a.warm_up.remote() for a in self._actors])

    def pids(self) -> list[int]:
        """Process ids of the actors (for fault-injection tests)."""
        return [h["pid"] for h in self._hellos(START_TIMEOUT_S)]

    def nodes(self) -> list[str]:
        """Ray node id of each actor."""
        return list(self._nodes)

    def close(self) -> None:
        """Close every actor's sandbox, kill the actors, and shut Ray down if this sandbox started it."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            actors, self._actors = self._actors, []
        import ray

        if actors:
            try:
                ray.wait([a.close.remote() for a in actors], num_returns=len(actors), timeout=60)
            except Exception:  # noqa: BLE001 - actors already gone
                pass
            for a in actors:
                try:
                    ray.kill(a, no_restart=True)
                except Exception:  # noqa: BLE001
                    pass
        if self._owns_ray:
            self._owns_ray = False
            ray_release()

    def __enter__(self) -> RaySandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
