"""Outcomes, check programs, caching and confirmation on the real sandboxes."""

from __future__ import annotations

import threading
import time

import pytest

from harness.cache import ExecCache
from harness.executor import Harness
from harness.jobs import CallJob, CheckJob, Limits

SAMPLE = """
import os, signal, time
def f(kind):
    print("called", kind)
    if kind == "ok":
        return {"t": (1, 2.5), "s": {3}, "n": float("nan"), "b": b"x", "none": None}
    if kind == "error":
        raise ValueError("bad input")
    if kind == "timeout":
        while True:
            pass
    if kind == "memory":
        return bytearray(1 << 31)
    if kind == "crash":
        os.kill(os.getpid(), signal.SIGSEGV)
    if kind == "exit":
        os._exit(3)
    return kind
"""
KINDS = ["ok", "error", "timeout", "memory", "crash", "exit", "after"]


def _check_outcomes(results):
    by = dict(zip(KINDS, results))
    ok = by["ok"]
    assert ok.status == "ok"
    value = ok.decoded
    assert value["t"] == (1, 2.5) and value["s"] == {3} and value["b"] == b"x" and value["none"] is None
    assert value["n"] != value["n"]  # nan survives
    assert ok.stdout == "called ok\n"
    assert by["error"].status == "error" and by["error"].error["type"] == "ValueError"
    assert by["error"].error["message"] == "bad input" and by["error"].stdout == "called error\n"
    assert by["timeout"].status == "timeout" and by["timeout"].duration_s >= 1.0
    assert by["memory"].status == "memory"
    assert by["crash"].status == "crash" and "SIGSEGV" in by["crash"].error["message"]
    assert by["exit"].status == "crash" and "code 3" in by["exit"].error["message"]
    # Inputs after a crash or timeout still run, in a fresh process.
    assert by["after"].status == "ok" and by["after"].decoded == "after"
    assert by["after"].stdout == "called after\n"
    assert not any(r.infra for r in results)


@pytest.mark.docker
def test_docker_outcomes(docker_sandbox):
    job = CallJob.create(SAMPLE, "f", [(k,) for k in KINDS], limits=Limits(timeout_s=1.0, memory_mb=128))
    _check_outcomes(docker_sandbox.run_calls([job])[0])


def test_local_outcomes(local_sandbox):
    job = CallJob.create(SAMPLE, "f", [(k,) for k in KINDS], limits=Limits(timeout_s=1.0, memory_mb=256))
    _check_outcomes(local_sandbox.run_calls([job])[0])


def test_local_says_it_is_not_isolation(capsys):
    from harness.sandbox import create_sandbox

    with pytest.warns(UserWarning, match="NOT isolation"):
        sb = create_sandbox("local", workers=1)
    sb.close()
    assert "NOT isolation" in capsys.readouterr().err
    assert not sb.info().isolated


CHECK_TEST = """
def check(candidate):
    assert candidate(2) == 4
    assert candidate(3) == 9, "three"
"""


@pytest.mark.docker
def test_check_programs(docker_sandbox):
    jobs = [
        CheckJob(code="def sq(x): return x * x", entry_point="sq", test=CHECK_TEST),
        CheckJob(code="def sq(x): return x * 2", entry_point="sq", test=CHECK_TEST),
        CheckJob(code="def sq(x) return x", entry_point="sq", test=CHECK_TEST),
        CheckJob(code="def square(x): return x * x", entry_point="sq", test=CHECK_TEST),
        CheckJob(code="def sq(x):\n    raise KeyError(x)", entry_point="sq", test=CHECK_TEST),
        # The prelude (trusted task text) supplies helpers the test uses.
        CheckJob(code="def inc(x): return x + 1", entry_point="inc", prelude="def helper(x):\n    return x + 1\n",
                 test="def check(candidate):\n    assert candidate(1) == helper(1)\n"),
    ]
    r = docker_sandbox.run_checks(jobs)
    assert [x.status for x in r] == ["pass", "fail", "error", "error", "error", "pass"]
    assert r[1].assertion == 'assert candidate(3) == 9, "three"' and r[1].error["message"] == "three"
    assert "SyntaxError" in r[2].error["message"]
    assert "not defined" in r[3].error["message"]
    assert r[4].error["type"] == "KeyError"


@pytest.mark.docker
def test_humaneval_references_pass_and_a_mutant_fails(docker_sandbox):
    from tools.harness_bench import _problems, check_jobs

    problems = _problems()[:12]
    jobs = check_jobs(problems, Limits(timeout_s=10.0, memory_mb=128))
    assert all(r.passed for r in docker_sandbox.run_checks(jobs))
    p = problems[0]  # has_close_elements: flip the comparison
    mutant = p["prompt"] + p["canonical_solution"].replace("<", ">=")
    bad = docker_sandbox.run_checks([CheckJob(mutant, p["entry_point"], p["test"], p["prompt"])])[0]
    assert bad.status == "fail" and bad.assertion.startswith("assert")


@pytest.mark.docker
def test_hash_seed_is_fixed_so_set_order_reproduces(docker_sandbox, make_docker_sandbox, local_sandbox):
    code = "def f(n):\n    return list({str(i) * 3 for i in range(n)})\n"
    job = CallJob.create(code, "f", [(30,)])
    a = docker_sandbox.run_calls([job])[0][0].value
    b = docker_sandbox.run_calls([job], fresh=True)[0][0].value
    c = local_sandbox.run_calls([job])[0][0].value
    assert a == b == c


@pytest.mark.docker
def test_concurrent_jobs_cannot_see_each_other(make_docker_sandbox):
    sb = make_docker_sandbox(limits=Limits(timeout_s=5.0, memory_mb=128), workers=2)
    writer = """
import os, time
def f(_):
    with open("/tmp/shared-secret", "w") as fh:
        fh.write("secret")
    os.chmod("/tmp/shared-secret", 0o644)
    time.sleep(1.5)
    return os.getuid()
"""
    snooper = """
import os, time
def f(_):
    time.sleep(0.5)
    seen = {}
    try:
        seen["read"] = open("/tmp/shared-secret").read()
    except OSError as e:
        seen["read"] = type(e).__name__
    others = []
    for name in os.listdir("/tmp"):
        path = os.path.join("/tmp", name)
        if name.startswith("job-") and os.stat(path).st_uid != os.getuid():
            try:
                os.listdir(path)
                others.append("listed")
            except OSError:
                others.append("denied")
    seen["others"] = others
    return seen
"""
    res = sb.run_calls([CallJob.create(writer, "f", [(0,)]), CallJob.create(snooper, "f", [(0,)])])
    assert res[0][0].status == "ok"
    snoop = res[1][0].decoded
    # Concurrent jobs never share a container (nor its /tmp); job dirs are private anyway.
    assert snoop["read"] == "FileNotFoundError"
    assert "listed" not in snoop["others"]


@pytest.mark.docker
def test_cache_hits_return_identical_results(docker_sandbox, tmp_path):
    cache = ExecCache(tmp_path / "cache.sqlite")
    h = Harness(docker_sandbox, cache=cache)
    jobs = [CallJob.create("def f(x): return [x] * 3", "f", [(i,) for i in range(5)]),
            CallJob.create("def f(x): return 1 / x", "f", [(0,), (2,)])]
    first = h.run_calls(jobs)
    assert cache.misses == 2 and cache.hits == 0
    second = h.run_calls(jobs)
    assert cache.hits == 2
    assert [[r.value for r in rs] for rs in first] == [[r.value for r in rs] for rs in second]
    assert second[1][0].status == "error" and second[1][1].decoded == 0.5
    checks = [CheckJob("def sq(x): return x*x", "sq", CHECK_TEST)]
    assert h.run_checks(checks)[0].passed and h.run_checks(checks)[0].passed and cache.hits == 3


@pytest.mark.docker
def test_unstable_outcomes_are_confirmed_alone(docker_sandbox):
    h = Harness(docker_sandbox, cache=None, confirm=True)
    job = CallJob.create("def f(x):\n    while x: pass\n    return x", "f", [(0,), (1,)], limits=Limits(timeout_s=0.5, memory_mb=128))
    res = h.run_calls([job])[0]
    assert [r.status for r in res] == ["ok", "timeout"]
    assert h.confirmed == 1


@pytest.mark.docker
def test_dead_container_is_infra_not_a_verdict(make_docker_sandbox):
    """Killing the container mid-job yields infra outcomes; confirmation recovers the truth."""
    sb = make_docker_sandbox(limits=Limits(timeout_s=5.0, memory_mb=128), workers=1)
    code = "import time\ndef f(x):\n    time.sleep(0.3)\n    return x * 2\n"
    job = CallJob.create(code, "f", [(i,) for i in range(8)])
    sb.warm_up()

    def killer():
        time.sleep(0.5)
        for cid in sb.container_ids():
            top = sb.client.api.top(cid)
            if len(top["Processes"]) > 3:  # init, sleep, runner + a job: the busy one
                sb.client.api.kill(cid)

    t = threading.Thread(target=killer)
    t.start()
    raw = sb.run_calls([job])[0]
    t.join()
    assert any(r.infra for r in raw), [r.status for r in raw]
    assert all(r.status == "crash" for r in raw if r.infra)
    assert [r.decoded for r in raw if r.status == "ok"] == [2 * i for i, r in enumerate(raw) if r.status == "ok"]
    fixed = Harness(sb, confirm=True).run_calls([job])[0]
    assert [r.decoded for r in fixed] == [2 * i for i in range(8)]


@pytest.mark.docker
def test_host_deadline_ends_a_stuck_runner(make_docker_sandbox):
    """If the in-sandbox runner stops answering, the host removes the whole container."""
    sb = make_docker_sandbox(limits=Limits(timeout_s=1.0, memory_mb=128), workers=1)
    sb.host_grace_s = 1.0
    sb.warm_up()
    freeze = """
import os, signal
def f():
    return os.getppid()
"""
    runner_pid = sb.run_calls([CallJob.create(freeze, "f", [()])])[0][0].decoded
    assert runner_pid > 1
    # Stop every runner in this sandbox's containers (as if it hung), then submit work.
    before = set(sb.container_ids())
    stop = ("for p in /proc/[0-9]*; do q=${p#/proc/}; [ $q != $$ ] && grep -q runner.py $p/cmdline 2>/dev/null "
            "&& kill -STOP $q; done; true")
    for cid in before:
        sb.client.api.exec_start(sb.client.api.exec_create(cid, ["sh", "-c", stop], user="0:0"))
    t0 = time.monotonic()
    res = sb.run_calls([CallJob.create("def f():\n    return 1\n", "f", [()])])[0][0]
    waited = time.monotonic() - t0
    assert res.infra and res.status == "crash" and "host-side deadline" in res.error["message"]
    # A stall bound, not a speed test: the runner never answers, so without the deadline this waits forever.
    assert waited < 120, waited
    # The stuck container is gone, not left running.
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        # One list call (containers.list would inspect each one, racing with the removal it waits for).
        alive = {c["Id"] for c in sb.client.api.containers(all=True, filters={"label": "org.oversightbench.sandbox"})}
        if before - alive:
            break
        time.sleep(0.2)
    assert before - alive, "the container of the stuck runner was not removed"
