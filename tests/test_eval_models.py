"""`obench eval` end to end with model backends: a tiny local causal LM (`hf:<path>`) and a real
OpenAI-compatible HTTP server on loopback (`openai:<model>`), including faults and a SIGKILL resume."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from tinylm import CHAT_TEMPLATE, build_tiny_lm

from tools.mock_server import MODEL_ID, MockServer

pytestmark = pytest.mark.docker
OBENCH = [sys.executable, "-m", "obench"]


def obench(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([*OBENCH, *args], capture_output=True, text=True, timeout=timeout)


def _preds(d: Path) -> list[dict]:
    return [json.loads(x) for x in (d / "predictions.jsonl").read_text().splitlines()]


def _manifest(d: Path) -> dict:
    return json.loads((d / "manifest.json").read_text())


def test_hf_tiny_model_end_to_end(tmp_path):
    model = build_tiny_lm(tmp_path / "tiny", chat_template=CHAT_TEMPLATE)
    args = ["eval", "--reviewer", f"hf:{model}", "--limit", "6", "--concurrency", "3", "--max-new-tokens", "24"]
    res = obench(*args, "--out", str(tmp_path / "a"))
    assert res.returncode == 0, res.stderr[-3000:]
    preds = _preds(tmp_path / "a")
    assert len(preds) == 6
    # a random-weight model writes gibberish: every review is an abstain that keeps the raw text
    assert all(p["verdict"] == "abstain" and p["p_buggy"] == 0.5 and p["parse_error"] for p in preds)
    assert all(p["raw"] and p["output_tokens"] > 0 and p["input_tokens"] > 100 for p in preds)
    m = _manifest(tmp_path / "a")
    assert m["reviewer"]["model"]["backend"] == "hf" and m["reviewer"]["model"]["chat_template"] is True
    assert len(m["reviewer"]["model"]["weights_sha256"]) == 64 and m["reviewer"]["model"]["device"] == "cpu"
    assert m["prompt"]["name"] == "review_direct.v1" and len(m["prompt"]["sha256"]) == 64
    assert m["decoding"] == {"max_new_tokens": 24, "temperature": 0.0, "top_p": 1.0, "seed": 0}
    assert m["usage"]["output_tokens"] == sum(p["output_tokens"] for p in preds)
    # greedy decoding: a second, independent run writes the same predictions
    res = obench(*args, "--out", str(tmp_path / "b"))
    assert res.returncode == 0, res.stderr[-3000:]
    assert (tmp_path / "a" / "predictions.jsonl").read_text() == (tmp_path / "b" / "predictions.jsonl").read_text()


def test_openai_server_with_faults_end_to_end(tmp_path):
    server = MockServer(latency_s=0.02, malformed_rate=0.2, rate_limit_rate=0.15, error_rate=0.1, slow_rate=0.1,
                        slow_s=3.0)
    with server:
        res = obench("eval", "--reviewer", f"openai:{MODEL_ID}", "--base-url", server.base_url, "--limit", "60",
                     "--concurrency", "8", "--timeout", "1", "--max-retries", "4", "--out", str(tmp_path / "run"))
        stats = server.stats()
    assert res.returncode == 0, res.stderr[-3000:]
    preds = _preds(tmp_path / "run")
    assert len(preds) == 60 and not any(p["error"] for p in preds)
    assert stats["by_status"].get(429, 0) > 0 and (stats["by_status"].get(500, 0) + stats["by_status"].get(503, 0)) > 0
    assert stats["by_fault"].get("slow", 0) > 0 and stats["requests"] > 60  # retries happened
    abstain = [p for p in preds if p["verdict"] == "abstain"]
    assert 0 < len(abstain) < 30 and all(p["parse_error"] for p in abstain)
    assert any("I looked at the function" in p["raw"] for p in abstain)  # the raw text is kept
    given = [p for p in preds if p["witness"]]
    assert given and {p["witness_status"] for p in given} <= {"verified", "no_difference", "invalid_input",
                                                             "unparseable", "reference_failed"}
    m = _manifest(tmp_path / "run")
    assert m["status"] == "complete" and m["usage"]["input_tokens"] > 0 and m["reviewer"]["model"]["backend"] == "openai"
    scores = json.loads((tmp_path / "run" / "scores.json").read_text())
    assert scores["n_items"] == 60 and scores["n_abstain"] == len(abstain)


def test_failed_requests_are_retried_by_the_next_run(tmp_path):
    out = tmp_path / "run"
    with MockServer(fail_always_rate=0.25) as bad:
        res = obench("eval", "--reviewer", f"openai:{MODEL_ID}", "--base-url", bad.base_url, "--limit", "24",
                     "--max-retries", "1", "--out", str(out))
    assert res.returncode == 0, res.stderr[-3000:]
    failed = [p["candidate_id"] for p in _preds(out) if p["error"]]
    assert failed and _manifest(out)["status"] == "incomplete" and "run the same command again" in res.stderr
    with MockServer() as good:
        res = obench("eval", "--reviewer", f"openai:{MODEL_ID}", "--base-url", good.base_url, "--limit", "24",
                     "--max-retries", "1", "--out", str(out))
        asked = good.stats()["requests"]
    assert res.returncode == 0, res.stderr[-3000:]
    assert asked == len(failed)  # only the failed ones were asked again
    assert not any(p["error"] for p in _preds(out)) and _manifest(out)["status"] == "complete"


def test_sigkill_midway_then_resume_equals_an_uninterrupted_run(tmp_path):
    n = 40
    with MockServer(latency_s=0.1, malformed_rate=0.1) as server:
        common = ["eval", "--reviewer", f"openai:{MODEL_ID}", "--base-url", server.base_url, "--limit", str(n),
                  "--concurrency", "2"]
        killed = tmp_path / "killed"
        proc = subprocess.Popen([*OBENCH, *common, "--out", str(killed)], stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, start_new_session=True)
        store = killed / "store.sqlite"
        done = 0
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            if store.exists():
                try:
                    done = sqlite3.connect(store, timeout=5).execute("SELECT COUNT(*) FROM reviews").fetchone()[0]
                except sqlite3.OperationalError:
                    done = 0
                if done >= 10:
                    break
            time.sleep(0.05)
        assert proc.poll() is None, "the run ended before it could be killed"
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        assert 10 <= done < n and not (killed / "predictions.jsonl").exists()
        stored = sqlite3.connect(store).execute("SELECT COUNT(*) FROM reviews").fetchone()[0]
        server.reset_stats()
        res = subprocess.run([*OBENCH, *common, "--out", str(killed)], capture_output=True, text=True, timeout=300)
        assert res.returncode == 0, res.stderr[-3000:]
        asked_on_resume = server.stats()["requests"]
        res = subprocess.run([*OBENCH, *common, "--out", str(tmp_path / "whole")], capture_output=True, text=True,
                             timeout=300)
        assert res.returncode == 0, res.stderr[-3000:]
    assert asked_on_resume == n - stored  # nothing done was asked again
    resumed, whole = _preds(killed), _preds(tmp_path / "whole")
    assert len(resumed) == n and len({p["candidate_id"] for p in resumed}) == n
    assert resumed == whole
    rows = sqlite3.connect(store).execute("SELECT COUNT(*), COUNT(DISTINCT candidate_id) FROM reviews").fetchone()
    assert rows == (n, n)
