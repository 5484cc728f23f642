"""Statistics that cannot be misread: OGR/PGR share one gap-ratio rule; runs are paired by id and suite."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest

from bench.metrics import Item, gap_undefined, oversight_gap_recovered, recovered
from bench.runs.rundir import Prediction, RunDirError, load_paired, write_predictions
from bench.w2s.pgr import pgr_stats


def _items(score, n_tasks: int = 40, per_task: int = 6, seed: int = 0) -> list[Item]:
    rng = random.Random(seed)
    out = []
    for t in range(n_tasks):
        for k in range(per_task):
            buggy = k % 2 == 0
            p = min(1.0, max(0.0, score(buggy, rng)))
            out.append(Item(task_id=f"T{t}", buggy=buggy, verdict="buggy" if p >= 0.5 else "correct", p_buggy=p))
    return out


def oracle(buggy, rng):
    return 0.9 if buggy else 0.1


def noisy(buggy, rng):
    return rng.random()


def anti(buggy, rng):
    return 0.1 if buggy else 0.9


def test_ogr_with_a_negative_gap_is_undefined():
    """Regression: a strong model clearly worse than the weak one gave OGR +0.07 (now: undefined, with the reason)."""
    weak = _items(oracle)
    strong = _items(noisy, seed=1)
    proto = _items(anti, seed=2)  # below the weak reviewer
    for metric in ("auroc", "catch@5%fpr"):
        r = oversight_gap_recovered(weak, strong, proto, metric=metric, n_boot=300)
        assert r["gap"] < 0 and r["gap_ci"][1] < 0
        assert r["value"] is None and "does not beat" in r["undefined"], r


def test_ogr_oracle_weak_random_strong_is_undefined():
    """Regression: an oracle as weak and random as strong reported 0.99."""
    r = oversight_gap_recovered(_items(oracle), _items(noisy, seed=3), _items(oracle, seed=4), n_boot=300)
    assert r["value"] is None and r["undefined"]


def test_ogr_is_defined_when_the_gap_is_clearly_positive():
    r = oversight_gap_recovered(_items(noisy, seed=5), _items(oracle), _items(oracle, seed=6), metric="auroc",
                                n_boot=300)
    assert r["undefined"] is None and r["value"] == pytest.approx(1.0, abs=1e-9) and r["gap_ci"][0] > 0


def test_pgr_and_ogr_use_the_same_rule():
    """One gap-ratio rule: a negative gap is undefined for PGR exactly as for OGR."""
    y = np.array([1, 0] * 60)
    tasks = [f"T{i // 4}" for i in range(len(y))]
    rng = np.random.default_rng(0)
    weak = np.where(y == 1, 0.9, 0.1)            # the floor is perfect
    ceiling = [rng.random(len(y))]                # the ceiling is noise: negative gap
    stats = pgr_stats("auroc", y, tasks, weak, [rng.random(len(y))], ceiling, n_boot=300)
    assert stats.pgr.value is None and "does not beat" in (stats.pgr.undefined or "")
    assert gap_undefined("auroc", -0.3, (-0.4, -0.2)) and gap_undefined("auroc", 0.1, (-0.01, 0.2))
    assert gap_undefined("auroc", 0.1, (0.02, 0.2)) is None
    gap, ratio = recovered("auroc", 0.7, 0.5, 0.9, [(0.7, 0.5, 0.9)] * 20)
    assert gap.value == pytest.approx(0.4) and ratio.value == pytest.approx(0.5)


def _run(tmp: Path, name: str, ids: list[str], suite_hash: str) -> Path:
    d = tmp / name
    d.mkdir()
    write_predictions(d, [Prediction(candidate_id=c, task_id="T", label="buggy", verdict="buggy", p_buggy=0.5)
                          for c in ids])
    (d / "manifest.json").write_text(json.dumps({"suite": {"content_hash": suite_hash}}))
    return d


def test_runs_are_paired_by_candidate_id_and_suite_hash(tmp_path, monkeypatch):
    """Regression: `obench ogr` paired the three runs by sorted position, whatever they held."""
    import bench.runs.rundir as rundir

    class M:
        def __init__(self, h):
            self.suite = {"content_hash": h}

    monkeypatch.setattr(rundir, "load_manifest", lambda r: M(json.loads((Path(r) / "manifest.json").read_text())
                                                             ["suite"]["content_hash"]))
    a = _run(tmp_path, "a", ["c1", "c2"], "sha256:x")
    b = _run(tmp_path, "b", ["c2", "c1"], "sha256:x")
    other_ids = _run(tmp_path, "c", ["c1", "c3"], "sha256:x")
    other_suite = _run(tmp_path, "d", ["c1", "c2"], "sha256:y")
    pa, pb = load_paired([a, b])
    assert [p.candidate_id for p in pa] == [p.candidate_id for p in pb] == ["c1", "c2"]
    with pytest.raises(RunDirError, match="different candidates"):
        load_paired([a, b, other_ids])
    with pytest.raises(RunDirError, match="different suites"):
        load_paired([a, other_suite])


# ---------------------------------------------------------------- command-line input
def _obench(*args: str):
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-m", "obench", *args], capture_output=True, text=True, timeout=600)


def test_check_candidates_on_a_directory_is_a_clear_error_not_a_traceback(tmp_path):
    r = _obench("tasks", "check", "--candidates", str(tmp_path))
    assert r.returncode == 2 and "Traceback" not in r.stderr and "is a directory" in r.stderr, r.stderr


def test_check_candidates_missing_file(tmp_path):
    r = _obench("tasks", "check", "--candidates", str(tmp_path / "nope.jsonl"))
    assert r.returncode == 2 and "no such file" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.docker
def test_check_candidates_non_utf8_lines_are_per_line_errors_and_all_invalid_exits_nonzero(tmp_path):
    f = tmp_path / "bad.jsonl"
    f.write_bytes(b'{"task_id": "HumanEval/0", "code": "\xff\xfe"}\n' + b"not json\n"
                  + b'{"task_id": "HumanEval/999", "code": "def f(): pass"}\n')
    r = _obench("tasks", "check", "--candidates", str(f), "--json")
    assert "Traceback" not in r.stderr, r.stderr
    rows = [json.loads(x) for x in r.stdout.splitlines() if x.startswith("{")]
    assert len(rows) == 3 and all(row["label"] == "invalid" for row in rows)
    assert "not UTF-8" in rows[0]["error"] and "line 1" in rows[0]["error"]
    assert "not valid JSON" in rows[1]["error"] and "unknown task_id" in rows[2]["error"]
    assert r.returncode == 2 and "none of the 3 lines could be checked" in r.stderr
