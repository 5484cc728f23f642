"""Jobs, limits and outcomes of the execution harness (frozen, JSON-friendly)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any, Literal, Self

from harness import codec

CallStatus = Literal["ok", "error", "timeout", "memory", "crash"]
CheckStatus = Literal["pass", "fail", "error", "timeout", "memory", "crash"]
#: Outcomes that can come from contention or infrastructure rather than the code
#: itself; they are re-run alone in a fresh sandbox before they count.
UNSTABLE = frozenset({"timeout", "memory", "crash"})
PROTOCOL_VERSION = 1


@dataclass(frozen=True)
class Limits:
    """Resource limits for one job.

    Attributes:
        timeout_s: wall-clock limit per call (``calls`` jobs) or per test program
            (``check`` jobs), enforced by the in-sandbox runner and, with a grace
            period, by the host.
        memory_mb: address-space limit per process of the job.
        nproc: processes the job's uid may have at once (sandbox only).
        output_bytes: stdout / stderr kept per call; the rest is counted and dropped.
        nofile: open files per process.
        fsize_mb: largest file the job may write.
        max_timeouts: in a ``calls`` job, after this many timeouts the remaining
            inputs are not run and reported as ``timeout`` with error type
            ``Skipped`` (0: run every input).
    """

    timeout_s: float = 5.0
    memory_mb: int = 256
    nproc: int = 32
    output_bytes: int = 65536
    nofile: int = 256
    fsize_mb: int = 16
    max_timeouts: int = 0

    def as_dict(self) -> dict[str, Any]:
        """Plain values, with numbers normalised (``5`` and ``5.0`` hash alike)."""
        d = asdict(self)
        d["timeout_s"] = round(float(d["timeout_s"]), 3)
        return d


def calibrated_timeout(reference_s: float, k: float = 5.0, min_limit_s: float = 1.0) -> float:
    """The time limit for a candidate: ``max(min_limit, k * reference_time)``."""
    return max(min_limit_s, k * reference_s)


@dataclass(frozen=True)
class CallJob:
    """Call ``entry_point`` of ``code`` on each input (encoded argument lists)."""

    code: str
    entry_point: str
    inputs: tuple[Any, ...]
    limits: Limits | None = None

    @classmethod
    def create(
        cls, code: str, entry_point: str, inputs: Iterable[Sequence[Any]], limits: Limits | None = None
    ) -> CallJob:
        """Build a job from Python argument tuples (encoded here)."""
        encoded = tuple(codec.encode(list(args)) for args in inputs)
        return cls(code=code, entry_point=entry_point, inputs=encoded, limits=limits)

    def to_wire(self, job_id: str, limits: Limits) -> dict[str, Any]:
        return {"op": "calls", "id": job_id, "code": self.code, "entry_point": self.entry_point,
                "inputs": list(self.inputs), "limits": (self.limits or limits).as_dict()}

    def cache_key(self, image_digest: str | None, limits: Limits) -> str:
        return _digest({**self.to_wire("", limits), "image": image_digest, "v": PROTOCOL_VERSION})

    def subset(self, indices: Sequence[int]) -> CallJob:
        return replace(self, inputs=tuple(self.inputs[i] for i in indices))


@dataclass(frozen=True)
class CheckJob:
    """Run an assertion-style test program (``check(candidate)``) against ``code``.

    ``prelude`` is trusted task text (e.g. the prompt with helper functions) that
    the test may use; the candidate's code never runs in the test's process.
    """

    code: str
    entry_point: str
    test: str
    prelude: str = ""
    limits: Limits | None = None

    def to_wire(self, job_id: str, limits: Limits) -> dict[str, Any]:
        return {"op": "check", "id": job_id, "code": self.code, "entry_point": self.entry_point,
                "test": self.test, "prelude": self.prelude, "limits": (self.limits or limits).as_dict()}

    def cache_key(self, image_digest: str | None, limits: Limits) -> str:
        return _digest({**self.to_wire("", limits), "image": image_digest, "v": PROTOCOL_VERSION})


class _JsonRecord:
    """``to_json`` / ``from_json`` for the result dataclasses (unknown keys ignored)."""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)  # type: ignore[call-overload]

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Self:
        fields = cls.__dataclass_fields__  # type: ignore[attr-defined]
        return cls(**{k: data[k] for k in fields if k in data})


@dataclass(frozen=True)
class CallResult(_JsonRecord):
    """Outcome of one call.

    ``value`` is the JSON-safe encoding (see :mod:`harness.codec`) when status is
    ``ok``; ``error`` holds ``type``, ``message`` and ``where`` otherwise. ``infra``
    marks outcomes caused by the harness (sandbox died, host timeout), which must
    never decide a label.
    """

    status: CallStatus
    value: Any = None
    error: dict[str, Any] | None = None
    stdout: str = ""
    stderr: str = ""
    truncated: bool = False
    duration_s: float = 0.0
    infra: bool = False

    @property
    def decoded(self) -> Any:
        return codec.decode(self.value)



@dataclass(frozen=True)
class CheckResult(_JsonRecord):
    """Outcome of a test program: ``pass`` / ``fail`` (an assertion) or a failure mode."""

    status: CheckStatus
    error: dict[str, Any] | None = None
    assertion: str = ""
    stdout: str = ""
    stderr: str = ""
    truncated: bool = False
    duration_s: float = 0.0
    infra: bool = False

    @property
    def passed(self) -> bool:
        return self.status == "pass"



@dataclass(frozen=True)
class SandboxInfo:
    """What a sandbox is, for manifests and ``obench harness doctor``."""

    backend: str
    isolated: bool
    image_tag: str | None
    image_digest: str | None
    workers: int
    limits: Limits
    python: str = ""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def infra_call(message: str, n: int) -> list[CallResult]:
    err = {"type": "InfraError", "message": message, "where": []}
    return [CallResult(status="crash", error=err, infra=True) for _ in range(n)]


def infra_check(message: str) -> CheckResult:
    return CheckResult(status="crash", error={"type": "InfraError", "message": message, "where": []}, infra=True)


def _digest(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
