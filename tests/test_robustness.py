"""Regression tests for harness robustness findings (deadlocks, forged frames, failed starts)."""

from __future__ import annotations

import json
import struct

import pytest

from harness import codec
from harness.jobs import CallJob, Limits
from harness.local_sandbox import LocalSandbox
from harness.sandbox import SandboxError


@pytest.mark.timeout(60)
def test_big_request_queued_behind_big_output_does_not_deadlock():
    sb = LocalSandbox(limits=Limits(timeout_s=5.0), workers=1, quiet=True)
    try:
        loud = CallJob.create("def f(x):\n    print('y' * 60000)\n    return x\n", "f", [(i,) for i in range(8)])
        big = CallJob.create("def f(xs):\n    return len(xs)\n", "f", [(list(range(200000)),)])
        a, b = sb.run_calls([loud, big])
        assert [r.decoded for r in a] == list(range(8)) and all(r.truncated is False for r in a)
        assert b[0].decoded == 200000
    finally:
        sb.close()


def _frame(body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + body


@pytest.mark.parametrize("body", [
    b'{"i": 0, "status": "ok", "value": NaN, "duration_s": 0.0}',
    b'{"i": 0, "status": "ok", "value": 1, "duration_s": 1e999}',
    b'{"i": 0, "status": "ok", "value": 1, "duration_s": ' + b"9" * 400 + b"}",
    b'{"i": 0, "status": "ok", "value": ' + b"[" * 990 + b"]" * 990 + b', "duration_s": 0.0}',
    b'{"i": 0, "status": "ok", "value": {"t": "set", "v": [[1]]}, "duration_s": 0.0}',
])
def test_forged_frames_are_the_candidates_crash_never_infra(local_sandbox, body):
    code = f"import os\ndef f(x):\n    os.write(3, {_frame(body)!r})\n    return x\n"
    res = local_sandbox.run_calls([CallJob.create(code, "f", [(1,), (2,)])])[0]
    assert not any(r.infra for r in res), [r.error for r in res]
    assert res[0].status == "crash" and res[0].error["type"] == "ProtocolError"
    again = local_sandbox.run_calls([CallJob.create("def f(x):\n    return x\n", "f", [(5,)])])[0][0]
    assert again.decoded == 5


class _Broken(LocalSandbox):
    def _start_link(self):
        raise SandboxError("simulated: cannot start")


def test_failed_starts_become_infra_results_not_exceptions():
    sb = _Broken(workers=2, quiet=True)
    try:
        res = sb.run_calls([CallJob.create("def f():\n    return 1\n", "f", [()]) for _ in range(3)])
        assert all(r[0].infra and r[0].status == "crash" for r in res)
        assert "cannot start" in res[0][0].error["message"]
        fresh = sb.run_calls([CallJob.create("def f():\n    return 1\n", "f", [()])], fresh=True)
        assert fresh[0][0].infra
    finally:
        sb.close()


def test_job_limits_above_the_sandbox_are_refused(local_sandbox):
    with pytest.raises(SandboxError, match="exceed this sandbox"):
        local_sandbox.run_calls([CallJob.create("def f(): return 1", "f", [()], limits=Limits(memory_mb=4096))])


@pytest.mark.parametrize("bad", [
    {"t": "set", "v": [[1]]}, {"t": "tuple", "v": 5}, {"t": "complex", "v": ["a", "b"]}, {"t": "repr", "v": 5},
    {"t": "bytes", "v": "!!"},
])
def test_decode_rejects_malformed_tags_with_value_error(bad):
    with pytest.raises(ValueError):
        codec.decode(bad)


def test_decode_depth_is_bounded():
    deep: object = 1
    for _ in range(900):
        deep = [deep]
    with pytest.raises(ValueError):
        codec.decode(json.loads(json.dumps(deep)))
