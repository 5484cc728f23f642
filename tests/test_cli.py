"""The exact CLI shapes other tools call: `obench harness exec|doctor`."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

CODE = """
import time
def f(kind):
    if kind == "ok":
        print("out")
        return [1, (2, 3)]
    if kind == "error":
        raise ZeroDivisionError("division by zero")
    if kind == "timeout":
        time.sleep(60)
    if kind == "memory":
        return "x" * (1 << 30)
"""


def obench(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "obench", *args], capture_output=True, text=True, timeout=timeout)


@pytest.fixture()
def code_file(tmp_path):
    p = tmp_path / "cand.py"
    p.write_text(CODE)
    return p


@pytest.mark.docker
@pytest.mark.parametrize("sandbox", ["docker", "local"])
def test_exec_json_documented_shape(code_file, sandbox):
    inputs = json.dumps([["ok"], ["error"], ["timeout"], ["memory"]])
    r = obench("harness", "exec", "--code-file", str(code_file), "--entry-point", "f", "--inputs-json", inputs,
               "--sandbox", sandbox, "--timeout", "1", "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["sandbox"] == sandbox
    if sandbox == "docker":
        assert doc["image_digest"].startswith("sha256:")
    else:
        assert doc["image_digest"] is None and "NOT isolation" in r.stderr
    res = doc["results"]
    assert [x["status"] for x in res] == ["ok", "error", "timeout", "memory"]
    for x in res:
        assert set(x) >= {"status", "value", "error", "stdout", "truncated", "duration_s"}
    assert res[0]["value"] == [1, {"t": "tuple", "v": [2, 3]}] and res[0]["stdout"] == "out\n"
    assert res[1]["error"]["type"] == "ZeroDivisionError" and res[1]["value"] is None
    assert res[2]["duration_s"] >= 0.9  # it ran into its 1 s limit (no upper bound: a loaded machine is slow)


@pytest.mark.docker
def test_exec_calls_do_not_share_state(tmp_path):
    p = tmp_path / "state.py"
    p.write_text("import os\ndef f():\n    seen = os.path.exists('/tmp/marker')\n    open('/tmp/marker', 'w').close()\n    return seen\n")
    for _ in range(2):
        r = obench("harness", "exec", "--code-file", str(p), "--entry-point", "f", "--inputs-json", "[[]]", "--json")
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout)["results"][0]["value"] is False


@pytest.mark.docker
def test_doctor_exits_zero_and_reports():
    r = obench("harness", "doctor", "--json")
    assert r.returncode == 0, r.stdout + r.stderr
    doc = json.loads(r.stdout)
    assert doc["ok"] and doc["backend"] == "docker" and doc["isolated"]
    assert doc["image_tag"].startswith("obench-sandbox:") and doc["image_digest"].startswith("sha256:")
    assert doc["probe"]["uid"] != 0 and doc["probe"]["network"] == "blocked"
    assert doc["limits"]["timeout_s"] > 0


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--inputs-json", "[[1], "], "--inputs-json is not valid JSON"),
        (["--inputs-json", "[1, 2]"], "JSON list of argument lists"),
        (["--inputs-json", "[[1]]", "--sandbox", "vm"], "known sandboxes: docker, local"),
        (["--inputs-json", "[[1]]", "--timeout", "0"], "--timeout must be positive"),
    ],
)
def test_exec_bad_input_is_a_clear_error(code_file, args, needle):
    r = obench("harness", "exec", "--code-file", str(code_file), "--entry-point", "f", *args)
    assert r.returncode == 2
    assert needle in r.stderr


def test_exec_missing_code_file(tmp_path):
    r = obench("harness", "exec", "--code-file", str(tmp_path / "nope.py"), "--entry-point", "f", "--inputs-json", "[]")
    assert r.returncode == 2 and "nope.py" in r.stderr
