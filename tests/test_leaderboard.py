"""Submissions are re-checked, never trusted: each kind of tampering is rejected with its own message."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from leaderboard.site import build_site, rank_entries
from leaderboard.submission import SubmitError, submit
from leaderboard.validate import validate_submission
from tasks.suite import load_suite

pytestmark = pytest.mark.docker
SHIPPED = Path(__file__).resolve().parent.parent / "leaderboard" / "submissions"


@pytest.fixture(scope="module")
def good(model_run, tmp_path_factory):
    root = tmp_path_factory.mktemp("subs")
    return submit(model_run, "mock-reviewer", org="Tests", paper="https://example.org/paper", open_weights=False,
                  root=root)


def _copy(good: Path, tmp_path: Path, name: str = "mock-reviewer") -> Path:
    dest = tmp_path / name
    shutil.copytree(good, dest)
    return dest


def _lines(d: Path) -> list[dict]:
    return [json.loads(x) for x in (d / "predictions.jsonl").read_text().splitlines()]


def _write_lines(d: Path, rows: list) -> None:
    (d / "predictions.jsonl").write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))


def _problems(d: Path, sandbox) -> list[str]:
    v = validate_submission(d, sandbox=sandbox)
    assert not v.ok
    return [str(p) for p in v.problems]


def test_a_good_submission_passes_and_its_scores_are_recomputed(good, eval_sandbox):
    assert sorted(p.name for p in good.iterdir()) == ["manifest.json", "metadata.json", "predictions.jsonl"]
    v = validate_submission(good, sandbox=eval_sandbox)
    assert v.ok, [str(p) for p in v.problems]
    assert v.witnesses_rerun > 20 and v.scores["n_items"] == len(load_suite().split("test"))
    claimed = json.loads((good / "metadata.json").read_text())["claimed"]
    assert v.scores["auroc"] == claimed["auroc"]


def test_edited_scores_are_rejected(good, tmp_path, eval_sandbox):
    d = _copy(good, tmp_path)
    meta = json.loads((d / "metadata.json").read_text())
    meta["claimed"]["catch@5%fpr"]["value"] = 0.97
    (d / "metadata.json").write_text(json.dumps(meta))
    (msg,) = _problems(d, eval_sandbox)
    assert "claimed.catch@5%fpr" in msg and "claims 0.9700" in msg and "edited" in msg


def test_missing_and_duplicated_ids_are_rejected(good, tmp_path, eval_sandbox):
    rows = _lines(good)
    d = _copy(good, tmp_path / "missing")
    _write_lines(d, rows[:-3])
    (msg,) = _problems(d, eval_sandbox)
    assert "3 candidate id(s) of the test split are missing" in msg and rows[-1]["candidate_id"] in msg
    d = _copy(good, tmp_path / "dup")
    _write_lines(d, [*rows, rows[5]])
    (msg,) = _problems(d, eval_sandbox)
    assert "appear more than once" in msg and f"{rows[5]['candidate_id']} (lines 6, {len(rows) + 1})" in msg


def test_wrong_suite_hash_is_rejected(good, tmp_path, eval_sandbox):
    d = _copy(good, tmp_path)
    for name, key in (("manifest.json", None), ("metadata.json", "suite_content_hash")):
        doc = json.loads((d / name).read_text())
        if key:
            doc[key] = "sha256:" + "0" * 64
        else:
            doc["suite"]["content_hash"] = "sha256:" + "0" * 64
        (d / name).write_text(json.dumps(doc))
    (msg,) = _problems(d, eval_sandbox)
    assert "suite.content_hash" in msg and "is not a known suite" in msg


def test_malformed_json_lines_are_reported_with_their_line_number(good, tmp_path, eval_sandbox):
    d = _copy(good, tmp_path)
    rows = _lines(good)
    rows[9] = '{"candidate_id": "x", '
    rows[20] = {**rows[20], "p_buggy": "very"}
    _write_lines(d, rows)
    msgs = _problems(d, eval_sandbox)
    assert any(m.startswith("predictions.jsonl:10: not valid JSON") for m in msgs)
    assert any(m.startswith("predictions.jsonl:21: p_buggy:") for m in msgs)
    assert len(msgs) == 2


def test_forged_verified_catch_is_rejected(good, tmp_path, eval_sandbox):
    d = _copy(good, tmp_path)
    rows = _lines(good)
    k = next(i for i, r in enumerate(rows) if r["witness"] and r["witness_status"] == "no_difference")
    rows[k]["witness_status"] = "verified"
    _write_lines(d, rows)
    (msg,) = _problems(d, eval_sandbox)
    assert f"predictions.jsonl:{k + 1}: witness_status" in msg and "recorded 'verified'" in msg
    assert "shows 'no_difference'" in msg


def test_edited_reviews_labels_and_extra_files_are_rejected(good, tmp_path, eval_sandbox):
    d = _copy(good, tmp_path)
    rows = _lines(good)
    rows[3]["p_buggy"] = 0.999
    rows[4]["label"] = "correct" if rows[4]["label"] == "buggy" else "buggy"
    _write_lines(d, rows)
    (d / "notes.txt").write_text("trust me")
    msgs = _problems(d, eval_sandbox)
    assert any(m.startswith("notes.txt: unexpected file") for m in msgs)
    d2 = _copy(good, tmp_path / "y")
    _write_lines(d2, rows)
    msgs = _problems(d2, eval_sandbox)
    assert any("predictions.jsonl:4" in m and "review edited" in m and "p_buggy 0.999" in m for m in msgs)
    assert any(m.startswith("predictions.jsonl:5: label") and "cannot be edited" in m for m in msgs)


def test_oracle_and_partial_runs_are_not_entries(tmp_path, eval_sandbox):
    from bench.runs.evaluate import EvalConfig, evaluate
    from tasks.suite import load_suite

    suite = load_suite()
    evaluate(EvalConfig(reviewer="oracle"), suite, eval_sandbox, tmp_path / "oracle")
    d = submit(tmp_path / "oracle", "oracle", root=tmp_path / "subs")
    (msg,) = _problems(d, eval_sandbox)
    assert "ceiling, not a leaderboard entry" in msg
    evaluate(EvalConfig(reviewer="lint", limit=30), suite, eval_sandbox, tmp_path / "lint30")
    d = submit(tmp_path / "lint30", "lint30", root=tmp_path / "subs")
    assert any("--limit 30: the leaderboard ranks the whole test split or its one subset, the first 200 items" in m
               for m in _problems(d, eval_sandbox))
    with pytest.raises(SubmitError, match="already exists"):
        submit(tmp_path / "lint30", "lint30", root=tmp_path / "subs")
    with pytest.raises(SubmitError, match="letters, digits"):
        submit(tmp_path / "lint30", "../evil", root=tmp_path / "subs")


def test_shipped_baselines_are_valid_and_ranks_show_ties(tmp_path, eval_sandbox):
    names = sorted(p.name for p in SHIPPED.iterdir() if p.is_dir())
    assert {"baseline-random", "baseline-always-buggy", "baseline-lint"} <= set(names)
    res = build_site(SHIPPED, tmp_path / "site", sandbox=eval_sandbox)
    assert not res.rejected and len(res.entries) == len(names)
    assert not res.rejected_grids
    # the README's real-model tables are what this build of the committed leaderboard gives, not typed numbers
    from tools import real_tables

    doc = json.loads((tmp_path / "site" / "results.json").read_text())
    assert not doc["rejected_w2s"], doc["rejected_w2s"]
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    assert real_tables.replace_between(readme, real_tables.render(doc)) == readme, \
        "README real-model tables are stale: run `make real-tables`"
    entries = [{"name": n, "metrics": {"catch@5%fpr": {"value": v, "ci": ci}}}
               for n, v, ci in (("a", 0.9, [0.85, 0.95]), ("b", 0.8, [0.7, 0.86]), ("c", 0.3, [0.2, 0.4]))]
    rank_entries(entries)
    assert [(e["name"], e["rank"], e["tied"]) for e in entries] == [("a", 1, True), ("b", 1, True), ("c", 3, False)]


def test_cli_validate_exit_status(good, tmp_path):
    cli = [sys.executable, "-m", "obench", "leaderboard", "validate"]
    res = subprocess.run([*cli, str(good)], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0 and "valid:" in res.stdout, res.stderr
    d = _copy(good, tmp_path)
    (d / "metadata.json").write_text("{not json")
    res = subprocess.run([*cli, str(d)], capture_output=True, text=True, timeout=300)
    assert res.returncode == 1 and "metadata.json: not valid JSON" in res.stderr


def test_a_subset_entry_is_checked_on_its_items_and_ranked_apart(tmp_path, eval_sandbox):
    """``--limit 200`` on the test split is an entry of its own kind: its ids must be exactly the first 200 in the
    eval's hash order, and it is ranked only against entries on those items, never with whole-split entries."""
    from bench.runs import EvalConfig, evaluate, select_items
    from leaderboard.site import short_hash

    suite = load_suite()
    evaluate(EvalConfig(reviewer="lint", limit=200), suite, eval_sandbox, tmp_path / "lint200")
    subs = tmp_path / "subs"
    d = submit(tmp_path / "lint200", "lint-first-200", root=subs)
    v = validate_submission(d, sandbox=eval_sandbox)
    assert v.ok, [str(p) for p in v.problems]
    assert v.scores["n_items"] == 200
    first = {c.candidate_id for c in select_items(suite, "test", 200)}
    assert {p.candidate_id for p in v.predictions} == first

    # reproduce draws its sample from the entry's own items (it used to draw from the whole split, and failed)
    from leaderboard.reproduce import reproduce

    rec = reproduce(d, 30, sandbox=eval_sandbox)
    assert rec.passed and len(rec.sample) == 30 and set(rec.sample) <= first, rec.mismatches
    again = validate_submission(d, sandbox=eval_sandbox)  # and validation checks the record against the same draw
    assert again.ok, [str(p) for p in again.problems]
    (d / "reproduced.json").unlink(missing_ok=True)

    # an id from outside the subset, in place of one of it: caught by the subset's own id list
    outside = select_items(suite, "test")[200]
    swapped = _copy(d, tmp_path, "lint-first-200")
    rows = _lines(swapped)
    rows[0] = {**rows[0], **{k: getattr(outside, k) for k in ("candidate_id", "task_id", "label")}}
    _write_lines(swapped, rows)
    msgs = _problems(swapped, eval_sandbox)
    assert any("not in the test split's first 200 in hash order (--limit 200)" in m and outside.candidate_id in m
               for m in msgs), msgs
    assert any("of the test split's first 200 in hash order (--limit 200) are missing" in m for m in msgs), msgs

    # another subset size would open a table of its own: only the one subset is ranked
    grown = _copy(d, tmp_path / "grown", "lint-first-200")
    man = json.loads((grown / "manifest.json").read_text())
    (grown / "manifest.json").write_text(json.dumps({**man, "limit": 250}))
    msgs = _problems(grown, eval_sandbox)
    assert any(m.startswith("manifest.json: limit: --limit 250: the leaderboard ranks") for m in msgs), msgs
    assert any("50 candidate id(s) of the test split's first 250 in hash order (--limit 250) are missing" in m
               for m in msgs), msgs

    # on the site: the whole-split lint baseline and the subset entry are each rank 1 of their own table
    shutil.copytree(SHIPPED / "baseline-lint-v2", subs / "baseline-lint-v2")
    shutil.copytree(SHIPPED / "baseline-random-v2", subs / "baseline-random-v2")
    res = build_site(subs, tmp_path / "site", sandbox=eval_sandbox, grids=tmp_path / "x", w2s=tmp_path / "x")
    assert not res.rejected, [str(p) for v in res.rejected for p in v.problems]
    doc = json.loads((tmp_path / "site" / "results.json").read_text())
    groups = [(g["subset"], g["n_entries"]) for g in doc["suites"] if g["content_hash"] == suite.manifest.content_hash]
    assert groups == [(0, 2), (200, 1)]
    by_name = {e["name"]: e for e in doc["entries"]}
    assert by_name["lint-first-200"]["subset"] == 200 and by_name["lint-first-200"]["rank"] == 1
    assert by_name["baseline-lint-v2"]["subset"] == 0
    html = (tmp_path / "site" / "index.html").read_text()
    table = f'<table id="leaderboard-{short_hash(suite.manifest.content_hash)}-n200"'
    assert table in html and 'data-name="lint-first-200"' in html.split(table, 1)[1].split("</table>", 1)[0]
    main = html.split('<table id="leaderboard"', 1)[1].split("</table>", 1)[0]
    assert 'data-name="lint-first-200"' not in main and 'data-name="baseline-lint-v2"' in main
    rows = list(csv.DictReader(io.StringIO((tmp_path / "site" / "results.csv").read_text())))
    assert {r["name"]: r["subset"] for r in rows} == {"lint-first-200": "200", "baseline-lint-v2": "0",
                                                       "baseline-random-v2": "0"}


def test_ogr_strong_is_only_for_a_protocol_without_a_strong_model(model_run, tmp_path):
    with pytest.raises(SubmitError, match="--ogr-strong is for a protocol without a strong model of its own"):
        submit(model_run, "direct-with-ref", ogr_strong="local:qwen2.5-coder-1.5b", root=tmp_path)
    assert not (tmp_path / "direct-with-ref").exists()
