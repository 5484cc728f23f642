"""Backend registry, clear errors, image recipe hashing, cache."""

from __future__ import annotations

import pytest

from harness import image
from harness.cache import ExecCache
from harness.jobs import CallJob, Limits, calibrated_timeout
from harness.sandbox import SandboxError, create_sandbox, sandbox_names


def test_known_backends():
    assert {"docker", "local"} <= set(sandbox_names())


def test_unknown_backend_lists_known_names():
    with pytest.raises(SandboxError) as info:
        create_sandbox("firecracker")
    msg = str(info.value)
    assert "firecracker" in msg and "docker" in msg and "local" in msg


def test_unreachable_daemon_says_how_to_fix(monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    with pytest.raises(SandboxError) as info:
        create_sandbox("docker")
    msg = str(info.value)
    assert "/nonexistent/docker.sock" in msg
    assert "dockerd" in msg and "--sandbox local" in msg


def test_image_tag_carries_content_hash(monkeypatch):
    off, on = image.recipe("offline"), image.recipe("online")
    assert off.tag.startswith("obench-sandbox:offline-") and on.tag.startswith("obench-sandbox:online-")
    assert off.content_hash != on.content_hash  # different base
    assert "FROM ${BASE_IMAGE}" in off.dockerfile and image.OFFLINE_BASE in off.dockerfile
    changed = image.ImageRecipe(off.variant, off.base, off.dockerfile, (("runner.py", b"# changed"),) + off.files[1:])
    assert changed.tag != off.tag


def test_calibrated_timeout():
    assert calibrated_timeout(0.01, k=5, min_limit_s=1.0) == 1.0
    assert calibrated_timeout(2.0, k=5, min_limit_s=1.0) == 10.0


def test_cache_key_depends_on_code_inputs_limits_and_image():
    job = CallJob.create("def f(x): return x", "f", [(1,)])
    base = job.cache_key("sha256:a", Limits())
    assert base == CallJob.create("def f(x): return x", "f", [(1,)]).cache_key("sha256:a", Limits())
    assert base != CallJob.create("def f(x): return x ", "f", [(1,)]).cache_key("sha256:a", Limits())
    assert base != CallJob.create("def f(x): return x", "f", [(2,)]).cache_key("sha256:a", Limits())
    assert base != job.cache_key("sha256:b", Limits())
    assert base != job.cache_key("sha256:a", Limits(timeout_s=1.0))


def test_exec_cache_roundtrip(tmp_path):
    cache = ExecCache(tmp_path / "c.sqlite")
    assert cache.get("k") is None
    cache.put_many([("k", [{"status": "ok", "value": 1}])])
    assert cache.get("k") == [{"status": "ok", "value": 1}]
    cache.close()
    again = ExecCache(tmp_path / "c.sqlite")
    assert len(again) == 1 and again.get("k") == [{"status": "ok", "value": 1}]
