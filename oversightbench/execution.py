"""Our harness inside an Inspect process: one hardened Docker sandbox, the gold self-check, witness checks.

Inspect runs many samples at once on one event loop; our sandbox is synchronous. :func:`shared_harness`
opens one Docker sandbox per process, lazily (with the limits ``obench eval`` uses), runs the gold
self-check of a suite before the first witness or tool run that needs it (every reference passes its
hidden tests here, or the sample fails with :class:`~bench.reviewing.verify.GoldCheckFailed`), and
serialises executions behind one lock (each is milliseconds on the warm pool). Callers on the event
loop go through ``anyio.to_thread``. The sandbox is closed when the process exits.

Only ``docker`` is offered: nothing a model writes or a candidate does ever runs outside the hardened
harness. Nothing here imports Inspect.
"""

from __future__ import annotations

import atexit
import threading
from collections.abc import Sequence
from typing import Any

from bench.reviewing.verify import WitnessCheck, gold_self_check, verify_witnesses
from bench.runs.store import digest
from harness.jobs import CallJob, CallResult, CheckJob, CheckResult, Limits, SandboxInfo
from harness.sandbox import create_sandbox
from tasks.suite import Suite

EVAL_LIMITS = Limits(timeout_s=30.0, memory_mb=512)
"""The sandbox limits of ``obench eval`` (a job's own limits come from its task)."""
WORKERS = 2


class SerialSandbox:
    """A sandbox whose executions run one batch at a time (the object handed to our reviewers and checks)."""

    name = "serial"

    def __init__(self, sandbox: Any, lock: Any) -> None:
        self._sandbox, self._lock = sandbox, lock

    def info(self) -> SandboxInfo:
        return self._sandbox.info()  # type: ignore[no-any-return]

    def run_calls(self, jobs: Sequence[CallJob], *, fresh: bool = False) -> list[list[CallResult]]:
        with self._lock:
            return self._sandbox.run_calls(jobs, fresh=fresh)  # type: ignore[no-any-return]

    def run_checks(self, jobs: Sequence[CheckJob], *, fresh: bool = False) -> list[CheckResult]:
        with self._lock:
            return self._sandbox.run_checks(jobs, fresh=fresh)  # type: ignore[no-any-return]

    def close(self) -> None:
        """Owned by :class:`Harness`: closing it here would close it for every sample."""


class Harness:
    """One lazily opened sandbox, the gold checks done so far, and witness verification."""

    def __init__(self, backend: str = "docker", limits: Limits = EVAL_LIMITS, workers: int = WORKERS) -> None:
        if backend != "docker":
            raise ValueError(f"the Inspect tasks execute only in the hardened docker sandbox, not {backend!r}")
        self.backend, self.limits, self.workers = backend, limits, workers
        self._open_lock = threading.Lock()
        self._run_lock = threading.RLock()
        self._gold_lock = threading.Lock()
        self._sandbox: Any = None
        self._gold: dict[str, dict[str, Any]] = {}

    @property
    def sandbox(self) -> SerialSandbox:
        """The shared sandbox (opened on first use).

        Raises:
            harness.sandbox.SandboxError: Docker is not reachable or the image is missing.
        """
        with self._open_lock:
            if self._sandbox is None:
                self._sandbox = create_sandbox(self.backend, limits=self.limits, workers=self.workers)
            return SerialSandbox(self._sandbox, self._run_lock)

    def info(self) -> dict[str, Any]:
        """The sandbox's description as a run manifest records it (``harness``)."""
        return self.sandbox.info().to_json()

    def image(self) -> str:
        info = self.sandbox.info()
        return info.image_digest or f"{info.backend}:{info.python}"

    def gold_check(self, suite: Suite, task_ids: Sequence[str]) -> dict[str, Any]:
        """The gold self-check of ``task_ids`` in this sandbox, run once per process; as a manifest records it.

        Raises:
            bench.reviewing.verify.GoldCheckFailed: a reference fails its hidden tests here.
        """
        ids = sorted(set(task_ids))
        key = f"{suite.manifest.content_hash}:{self.image()}:{digest(ids)}"
        with self._gold_lock:
            if key not in self._gold:
                n = gold_self_check(self.sandbox, suite, ids)
                self._gold[key] = {"tasks": n, "passed": True, "image": self.image()}
            return dict(self._gold[key])

    def verify(self, suite: Suite, task_id: str, code: str, witness: str | None, label: str) -> WitnessCheck:
        """Execute one witness on the candidate and the reference (the labelling rule of ``obench eval``)."""
        if not witness:
            return WitnessCheck("none")
        try:
            return verify_witnesses(self.sandbox, suite, [(task_id, code, witness)], labels=[label])[0]
        except Exception as exc:  # noqa: BLE001 - like obench eval: an infra outcome, retried by a re-run
            return WitnessCheck("infra", f"verification failed: {type(exc).__name__}: {exc}"[:300])

    def close(self) -> None:
        with self._open_lock:
            if self._sandbox is not None:
                self._sandbox.close()
                self._sandbox = None


_SHARED: dict[str, Harness] = {}
_SHARED_LOCK = threading.Lock()


def shared_harness(backend: str = "docker") -> Harness:
    """The process's harness for ``backend`` (created on first use, closed at exit)."""
    with _SHARED_LOCK:
        if backend not in _SHARED:
            _SHARED[backend] = Harness(backend)
            atexit.register(_SHARED[backend].close)
        return _SHARED[backend]
