"""Shared fixtures: real sandboxes (docker tests fail, never skip, under `make test`)."""

from __future__ import annotations

import os

import pytest

from harness.jobs import Limits
from harness.sandbox import SandboxError, create_sandbox

REQUIRE_DOCKER = os.environ.get("OBENCH_REQUIRE_DOCKER") == "1"


def required_sandbox(name: str = "docker", **kwargs):
    """A sandbox backend; under `make test` (OBENCH_REQUIRE_DOCKER=1) a missing one fails, elsewhere it skips."""
    try:
        return create_sandbox(name, **kwargs)
    except SandboxError as exc:
        if REQUIRE_DOCKER:
            pytest.fail(f"the {name} sandbox is required under `make test` but unavailable: {exc}")
        pytest.skip(f"{name} sandbox unavailable: {exc}")


def _docker_or_skip(**kwargs):
    return required_sandbox("docker", **kwargs)


@pytest.fixture(scope="session")
def docker_sandbox():
    """A pooled docker sandbox with short limits, shared by the session."""
    sb = _docker_or_skip(limits=Limits(timeout_s=2.0, memory_mb=128), workers=2)
    yield sb
    sb.close()


@pytest.fixture(scope="session")
def make_docker_sandbox():
    """Factory for extra docker sandboxes (closed at session end)."""
    made = []

    def make(**kwargs):
        sb = _docker_or_skip(**kwargs)
        made.append(sb)
        return sb

    yield make
    for sb in made:
        sb.close()


@pytest.fixture(scope="session")
def local_sandbox():
    sb = create_sandbox("local", limits=Limits(timeout_s=2.0, memory_mb=256), workers=2, quiet=True)
    yield sb
    sb.close()


@pytest.fixture(scope="session")
def eval_sandbox(make_docker_sandbox):
    """A docker sandbox with the limits `obench eval` uses."""
    return make_docker_sandbox(limits=Limits(timeout_s=30.0, memory_mb=512), workers=2)


@pytest.fixture(scope="session")
def model_run(tmp_path_factory, eval_sandbox):
    """A complete test-split run of a model reviewer served over real HTTP on loopback (with witnesses)."""
    from pathlib import Path

    from bench.models import ModelOptions
    from bench.runs.evaluate import EvalConfig, evaluate
    from tasks.suite import load_suite
    from tools.mock_server import MODEL_ID, MockServer

    out = Path(tmp_path_factory.mktemp("model-run")) / "run"
    with MockServer() as server:
        cfg = EvalConfig(reviewer=f"openai:{MODEL_ID}", split="test",
                         model_options=ModelOptions(concurrency=8, base_url=server.base_url))
        evaluate(cfg, load_suite(), eval_sandbox, out, command=["obench", "eval", "--reviewer", cfg.reviewer])
    return out
