"""The ``ray`` executor: Ray actors with their own docker pools, item for item equal to local docker."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest

from harness.jobs import CallJob, CheckJob, Limits
from harness.sandbox import SandboxError

os.environ.setdefault("RAY_AUTH_MODE", "disabled")
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")

pytestmark = pytest.mark.docker

from test_harness import KINDS, SAMPLE  # noqa: E402 - the same mix of outcomes as the docker tests

SHORT = Limits(timeout_s=1.0, memory_mb=128)
CHECK_TEST = "def check(candidate):\n    assert candidate(2) == 4\n    assert candidate(3) == 9, 'three'\n"
SLOW = "import time\ndef f(x):\n    time.sleep(0.25)\n    return [x, x * x]\n"


def _ray_sandbox(**kwargs):
    from conftest import required_sandbox

    return required_sandbox("ray", **kwargs)


@pytest.fixture(scope="module")
def ray_sb():
    """A local Ray instance (2 CPUs) started by a 2-actor RaySandbox; shut down with it."""
    import ray

    sb = _ray_sandbox(limits=Limits(timeout_s=5.0, memory_mb=256), workers=2)
    sb.warm_up()
    yield sb
    sb.close()
    assert not ray.is_initialized()


def _same(a, b) -> None:
    """Outcomes equal in everything but timing."""
    da, db = a.to_json(), b.to_json()
    da.pop("duration_s")
    db.pop("duration_s")
    assert da == db


def _call_jobs() -> list[CallJob]:
    jobs = [CallJob.create(SAMPLE, "f", [(k,) for k in KINDS], limits=SHORT),
            CallJob.create("def f(x):\n    return x + 1\n", "f", [], limits=SHORT)]
    for n in range(12):  # right and wrong answers, printed output
        jobs.append(CallJob.create(f"def g(a, b):\n    print(a)\n    return a * b + {n % 3}\n", "g",
                                   [(i, n) for i in range(4)], limits=SHORT))
    return jobs


def test_info_names_ray_and_the_docker_image(ray_sb, docker_sandbox):
    info = ray_sb.info()
    assert info.backend == "ray" and info.isolated and info.workers == 2
    assert info.image_digest == docker_sandbox.info().image_digest and info.image_tag
    assert len(set(ray_sb.pids())) == 2


def test_calls_equal_local_docker_item_for_item(ray_sb, docker_sandbox):
    jobs = _call_jobs()
    got, want = ray_sb.run_calls(jobs), docker_sandbox.run_calls(jobs)
    assert [len(r) for r in got] == [len(j.inputs) for j in jobs] and got[1] == []
    assert [r.status for r in got[0]] == ["ok", "error", "timeout", "memory", "crash", "crash", "ok"]
    for g, w in zip(got, want):
        assert len(g) == len(w)
        for a, b in zip(g, w):
            _same(a, b)
    fresh = ray_sb.run_calls([jobs[2], jobs[0].subset([2, 6])], fresh=True)
    for a, b in zip(fresh[0] + fresh[1], want[2] + [want[0][2], want[0][6]]):
        _same(a, b)
    with pytest.raises(SandboxError, match="exceed"):
        ray_sb.run_calls([CallJob.create("def f(): pass", "f", [()], limits=Limits(memory_mb=4096))])


def test_checks_equal_local_docker_item_for_item(ray_sb, docker_sandbox):
    codes = ["def sq(x): return x * x", "def sq(x): return x * 2", "def sq(x) return x", "def square(x): return x",
             "def sq(x):\n    raise KeyError(x)", "def sq(x):\n    while True:\n        pass",
             "def sq(x):\n    return len(bytearray(1 << 31))"]
    jobs = [CheckJob(code=c, entry_point="sq", test=CHECK_TEST, limits=SHORT) for c in codes] * 2
    got, want = ray_sb.run_checks(jobs), docker_sandbox.run_checks(jobs)
    assert [r.status for r in got[:7]] == ["pass", "fail", "error", "error", "error", "timeout", "memory"]
    for a, b in zip(got, want, strict=True):
        _same(a, b)


def test_label_items_through_ray_equals_the_suite(ray_sb):
    from tasks.check import CheckItem, label_items
    from tasks.suite import load_suite

    suite = load_suite()
    cands = suite.split("test")[::6][:40]
    assert {c.label for c in cands} == {"buggy", "correct"}
    rows = label_items(ray_sb, suite, [CheckItem(n, c.task_id, c.code) for n, c in enumerate(cands, 1)])
    assert [r["label"] for r in rows] == [c.label for c in cands]


def _run_in_thread(fn):
    box: dict = {}
    thread = threading.Thread(target=lambda: box.setdefault("out", fn()))
    thread.start()
    return thread, box


def test_a_killed_actor_loses_nothing(ray_sb):
    """SIGKILL one actor mid-batch: Ray restarts it and re-runs its chunk; every result arrives."""
    jobs = [CallJob.create(SLOW, "f", [(k,), (k + 100,)], limits=Limits(timeout_s=5.0, memory_mb=128))
            for k in range(16)]
    before = ray_sb.pids()
    thread, box = _run_in_thread(lambda: ray_sb.run_calls(jobs))
    time.sleep(1.0)
    assert thread.is_alive()  # mid-batch
    os.kill(before[0], signal.SIGKILL)
    thread.join(timeout=120)
    assert not thread.is_alive()
    got = box["out"]
    assert [[r.status for r in res] for res in got] == [["ok", "ok"]] * 16
    assert [[r.decoded for r in res] for res in got] == [[[k, k * k], [k + 100, (k + 100) ** 2]] for k in range(16)]
    after = ray_sb.pids()
    assert after[1] == before[1] and after[0] != before[0]  # restarted in place


def test_an_actor_lost_for_good_yields_infra_outcomes_then_is_replaced(ray_sb):
    """No restarts, no retries: the lost chunk becomes infra results; the next batch gets a new actor."""
    sb = _ray_sandbox(limits=Limits(timeout_s=5.0, memory_mb=128), workers=1, actor_cpus=0,
                      chunk_size=6, max_restarts=0, max_task_retries=0)
    try:
        jobs = [CallJob.create(SLOW, "f", [(k,)], limits=Limits(timeout_s=5.0, memory_mb=128)) for k in range(6)]
        sb.warm_up()  # one chunk of 6 x 0.25 s: the kill lands mid-chunk
        pid = sb.pids()[0]
        thread, box = _run_in_thread(lambda: sb.run_calls(jobs))
        time.sleep(0.8)
        assert thread.is_alive()
        os.kill(pid, signal.SIGKILL)
        thread.join(timeout=60)
        got = box["out"]
        assert len(got) == 6 and all(len(r) == 1 for r in got)
        assert all(r[0].infra and r[0].status == "crash" for r in got)
        again = sb.run_calls(jobs[:2])
        assert [r[0].decoded for r in again] == [[0, 0], [1, 1]] and sb.pids()[0] != pid
    finally:
        sb.close()
    import ray

    assert ray.is_initialized()  # the module's instance is still up (it owns it)


def test_start_failures_are_readable_errors(ray_sb):
    from bench.models import UnknownModel
    from bench.models.ray_model import RayModel

    with pytest.raises(SandboxError, match="unknown sandbox 'nope'"):
        from harness.ray_sandbox import RaySandbox

        RaySandbox(workers=1, backend="nope", actor_cpus=0)
    with pytest.raises(UnknownModel, match="names no model"):
        RayModel("openai:")


def test_ray_model_streams_every_index_like_the_plain_backend(ray_sb):
    from bench.models import GenerateConfig, ModelOptions, create_model
    from bench.models.ray_model import EXECUTOR_KEY, RayModel
    from tools.mock_server import MODEL_ID, MockServer

    prompts = [[{"role": "user", "content": f"Review this code number {i}:\ndef f(x):\n    return x + {i}\n"}]
               for i in range(40)]
    cfg = GenerateConfig(max_new_tokens=64)
    with MockServer(latency_s=0.05) as server:
        opts = ModelOptions(concurrency=4, base_url=server.base_url)
        plain = create_model(f"openai:{MODEL_ID}", opts)
        want = {i: g.text for i, g in plain.generate(prompts, cfg)}
        with RayModel(f"openai:{MODEL_ID}", opts) as model:
            described = model.describe()
            assert described.pop(EXECUTOR_KEY)["kind"] == "ray" and described == plain.describe()
            assert model.spec == plain.spec and model.supports_tools
            got = list(model.generate(prompts, cfg))
    assert sorted(i for i, _ in got) == list(range(40))
    assert all(g.error is None for _, g in got)
    assert {i: g.text for i, g in got} == want


def test_ray_model_survives_a_killed_actor(ray_sb):
    from bench.models import GenerateConfig, ModelOptions
    from bench.models.ray_model import RayModel
    from tools.mock_server import MODEL_ID, MockServer

    prompts = [[{"role": "user", "content": f"prompt {i}"}] for i in range(16)]
    with MockServer(latency_s=0.3) as server:
        with RayModel(f"openai:{MODEL_ID}", ModelOptions(concurrency=2, base_url=server.base_url),
                      chunk_size=4) as model:
            stream = model.generate(prompts, GenerateConfig(max_new_tokens=32))
            first = next(stream)
            os.kill(model.pids()[0], signal.SIGKILL)
            got = [first, *stream]
    assert sorted(i for i, _ in got) == list(range(16))
    assert all(g.error is None and g.text for _, g in got)


def test_cli_executor_ray_equals_local_item_for_item(tmp_path):
    """`--executor ray` on `obench eval` and `obench tasks check`: the same results as the local executor."""
    import json
    import subprocess
    import sys

    from tasks.suite import load_suite
    from tools.mock_server import MODEL_ID, MockServer

    cli = [sys.executable, "-m", "obench"]
    with MockServer(latency_s=0.01) as server:
        runs = {}
        for executor in ("local", "ray"):
            out = tmp_path / executor
            res = subprocess.run([*cli, "eval", "--reviewer", f"openai:{MODEL_ID}", "--base-url", server.base_url,
                                  "--limit", "30", "--executor", executor, "--out", str(out)],
                                 capture_output=True, text=True, timeout=600)
            assert res.returncode == 0, res.stderr[-3000:]
            runs[executor] = (out / "predictions.jsonl").read_text()
            if executor == "ray":
                m = json.loads((out / "manifest.json").read_text())
                assert m["harness"]["backend"] == "ray" and m["reviewer"]["model"]["executor"]["kind"] == "ray"
    assert runs["ray"] == runs["local"]
    suite = load_suite()
    cands = sorted(suite.split("test"), key=lambda c: c.candidate_id)[:30]
    path = tmp_path / "cands.jsonl"
    path.write_text("".join(json.dumps({"task_id": c.task_id, "code": c.code}) + "\n" for c in cands))
    labels = {}
    for executor in ("local", "ray"):
        res = subprocess.run([*cli, "tasks", "check", "--candidates", str(path), "--json", "--executor", executor],
                             capture_output=True, text=True, timeout=600)
        assert res.returncode == 0, res.stderr[-3000:]
        labels[executor] = [json.loads(x)["label"] for x in res.stdout.splitlines()]
    assert labels["ray"] == labels["local"] == [c.label for c in cands]
