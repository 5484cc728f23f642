"""`obench eval | report | compare` end to end with the built-in baselines, on the real Docker sandbox."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from bench.metrics.scoring import METRICS
from tasks.suite import load_suite

pytestmark = pytest.mark.docker


def obench(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "obench", *args], capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """The four baselines on the whole test split."""
    root = tmp_path_factory.mktemp("runs")
    out = {}
    for spec in ("random:1", "always-buggy", "oracle", "lint"):
        d = root / spec.replace(":", "_")
        res = obench("eval", "--reviewer", spec, "--split", "test", "--out", str(d))
        assert res.returncode == 0, res.stderr[-3000:]
        out[spec] = d
    return out


def _scores(d: Path) -> dict:
    return json.loads((d / "scores.json").read_text())


def test_run_directory_has_every_artifact(runs):
    d = runs["random:1"]
    for name in ("manifest.json", "predictions.jsonl", "scores.json", "report.md", "roc.png", "catch_by_subtlety.png",
                 "catch_by_operator.png", "store.sqlite"):
        assert (d / name).stat().st_size > 0, name
    scores = _scores(d)
    for m in METRICS:
        assert set(scores[m]) == {"value", "ci"} and len(scores[m]["ci"]) == 2, m
    suite = load_suite()
    n_test = len(suite.split("test"))
    assert scores["n_items"] == n_test
    m = json.loads((d / "manifest.json").read_text())
    assert m["status"] == "complete" and m["split"] == "test" and m["protocol"] == "direct"
    assert m["suite"]["content_hash"].startswith("sha256:") and m["harness"]["image_digest"].startswith("sha256:")
    assert m["reviewer"]["spec"] == "random:1" and m["gold_check"]["passed"] and m["gold_check"]["tasks"] == len({c.task_id for c in suite.split("test")})
    assert {"python", "numpy", "docker", "oversightbench"} <= set(m["packages"]) and m["host"]["cpus"] >= 1
    assert m["started_at"] <= m["ended_at"]
    preds = [json.loads(x) for x in (d / "predictions.jsonl").read_text().splitlines()]
    assert len(preds) == n_test and len({p["candidate_id"] for p in preds}) == n_test
    assert [p["candidate_id"] for p in preds] == sorted(p["candidate_id"] for p in preds)
    report = (d / "report.md").read_text()
    assert "catch@5%fpr" in report and "random:1" in report and "![ROC](roc.png)" in report


def test_baselines_behave_as_their_definitions_say(runs):
    oracle = _scores(runs["oracle"])
    assert oracle["catch@5%fpr"]["value"] == 1.0 and oracle["catch_rate"]["value"] == 1.0
    assert oracle["false_alarm_rate"]["value"] == 0.0 and oracle["verified_catch_rate"]["value"] == 1.0
    assert oracle["hallucinated_witness_rate"]["value"] == 0.0
    assert not json.loads((runs["oracle"] / "manifest.json").read_text())["leaderboard_eligible"]
    rnd = _scores(runs["random:1"])
    lo, hi = rnd["auroc"]["ci"]
    assert lo < 0.5 < hi
    ab = _scores(runs["always-buggy"])
    assert ab["catch_rate"]["value"] == 1.0 and ab["false_alarm_rate"]["value"] == 1.0
    assert ab["catch@5%fpr"]["value"] == pytest.approx(0.05)  # a constant score catches exactly the budget
    subtle = {g["group"]: g for g in oracle["breakdowns"]["subtlety"]}
    assert sum(g["n"] for g in subtle.values()) == oracle["n_buggy"]
    assert {g["group"] for g in oracle["breakdowns"]["family"]} >= {"constant", "comparison", "boundary"}


def test_rerun_resumes_and_report_rerenders(runs):
    d = runs["lint"]
    before = (d / "predictions.jsonl").read_text()
    scores = (d / "scores.json").read_text()
    created = sqlite3.connect(d / "store.sqlite").execute("SELECT MAX(created), COUNT(*) FROM reviews").fetchone()
    active = json.loads((d / "manifest.json").read_text())["active_seconds"]
    assert isinstance(active, float) and active >= 0
    res = obench("eval", "--reviewer", "lint", "--split", "test", "--out", str(d))
    assert res.returncode == 0, res.stderr[-2000:]
    after = sqlite3.connect(d / "store.sqlite").execute("SELECT MAX(created), COUNT(*) FROM reviews").fetchone()
    assert after == created  # nothing was reviewed again
    assert json.loads((d / "manifest.json").read_text())["active_seconds"] >= active  # the rerun's time is added
    assert (d / "predictions.jsonl").read_text() == before
    (d / "scores.json").unlink()
    (d / "report.md").unlink()
    res = obench("report", str(d))
    assert res.returncode == 0, res.stderr
    assert (d / "scores.json").read_text() == scores and "catch@5%fpr" in (d / "report.md").read_text()


def test_compare_is_paired_and_checks_items(runs, tmp_path):
    res = obench("compare", str(runs["oracle"]), str(runs["random:1"]), "--json", "--n-boot", "500")
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)["metrics"]["catch@5%fpr"]
    assert doc["diff"] > 0.5 and doc["ci"][0] > 0 and doc["p_value"] < 0.01
    same = json.loads(obench("compare", str(runs["lint"]), str(runs["lint"]), "--json", "--n-boot", "200").stdout)
    assert same["metrics"]["auroc"]["diff"] == 0 and same["metrics"]["auroc"]["p_value"] == 1.0
    small = tmp_path / "small"
    assert obench("eval", "--reviewer", "lint", "--limit", "20", "--out", str(small)).returncode == 0
    res = obench("compare", str(runs["lint"]), str(small))
    assert res.returncode == 2 and "different candidates" in res.stderr and "--limit" in res.stderr


def test_bad_input_gets_a_clear_error(runs, tmp_path):
    res = obench("eval", "--reviewer", "gpt-9000", "--limit", "5", "--out", str(tmp_path / "x"))
    assert res.returncode == 2 and "hf:<hub-id-or-local-path>" in res.stderr and "openai:<model>" in res.stderr
    assert "random[:SEED]" in res.stderr and "oracle" in res.stderr
    res = obench("eval", "--reviewer", "lint", "--protocol", "telepathy", "--out", str(tmp_path / "y"))
    assert res.returncode == 2 and "known: direct" in res.stderr
    res = obench("eval", "--reviewer", "lint", "--split", "validation", "--out", str(tmp_path / "z"))
    assert res.returncode == 2 and "train, dev, test" in res.stderr
    # a run directory holding another run is never overwritten
    res = obench("eval", "--reviewer", "always-buggy", "--out", str(runs["lint"]))
    assert res.returncode == 2 and "holds another run" in res.stderr
    assert json.loads((runs["lint"] / "manifest.json").read_text())["reviewer"]["spec"] == "lint"
    res = obench("report", str(tmp_path))
    assert res.returncode == 2 and "predictions.jsonl" in res.stderr
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "predictions.jsonl").write_text('{"candidate_id": 3}\n')
    res = obench("report", str(tmp_path / "bad"))
    assert res.returncode == 2 and "predictions.jsonl:1" in res.stderr


@pytest.mark.docker
def test_a_run_with_one_label_still_reports(tmp_path):
    """One candidate (one label): no ROC or breakdown plots can be drawn, yet the run and its report finish."""
    out = tmp_path / "one"
    r = obench("eval", "--reviewer", "random", "--limit", "1", "--out", str(out))
    assert r.returncode == 0, r.stderr[-2000:]
    s = _scores(out)
    assert s["n_items"] == 1 and s["auroc"]["value"] is None
    assert "![ROC]" not in (out / "report.md").read_text()
