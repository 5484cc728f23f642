"""No edit of a submission raises its leaderboard number, and no submission crashes validation or the build.

One regression test per hole: p_buggy nudges, failed requests as a hiding place, README honesty,
reproduction of raw replies, the validator's own bootstrap seed, localization by listing every line,
hostile submissions through the CLI.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bench.metrics.scoring import LOCALIZATION_MAX_LINES, Item, metric_values
from bench.models import ModelOptions
from bench.runs.rundir import Prediction, compute_scores
from leaderboard.reproduce import reproduce
from leaderboard.site import build_site
from leaderboard.submission import REPRODUCED, ReproductionRecord, submit
from leaderboard.validate import BOOTSTRAP_SEED, printable, validate_submission

REPO = Path(__file__).resolve().parent.parent
SHIPPED = REPO / "leaderboard" / "submissions"
CLI = [sys.executable, "-m", "obench", "leaderboard"]


def _copy(name: str, root: Path, as_name: str | None = None) -> Path:
    dest = root / (as_name or name)
    shutil.copytree(SHIPPED / name, dest)
    (dest / REPRODUCED).unlink(missing_ok=True)
    if as_name:
        _edit_json(dest / "metadata.json", lambda m: m.update(name=as_name))
    return dest


def _n_items(d: Path) -> str:
    """The submission's ``"n_items": N`` text in metadata.json (N is its suite's test split size)."""
    n = json.loads((d / "metadata.json").read_text())["n_items"]
    return f'"n_items": {n}'


def _rows(d: Path) -> list[dict]:
    return [json.loads(x) for x in (d / "predictions.jsonl").read_text().splitlines()]


def _edit_json(path: Path, edit) -> None:
    doc = json.loads(path.read_text())
    edit(doc)
    path.write_text(json.dumps(doc, indent=2))


def _write(d: Path, rows: list[dict], claim: bool = True) -> dict:
    """Write predictions and, like a submitter covering their tracks, claims that match them."""
    (d / "predictions.jsonl").write_text("".join(json.dumps(r, sort_keys=True) + "\n" for r in rows))
    seed = json.loads((d / "manifest.json").read_text())["seeds"]["bootstrap"]
    scores = compute_scores([Prediction.model_validate(r) for r in rows], seed=seed)
    if claim:
        _edit_json(d / "metadata.json", lambda m: m.update(claimed={k: scores[k] for k in m["claimed"]}))
    return scores


def _problems(d: Path, **kw) -> list[str]:
    v = validate_submission(d, **kw)
    assert not v.ok
    return [str(p) for p in v.problems]


def _as_model_submission(root: Path, name: str = "synthetic") -> Path:
    """The lint baseline dressed as a model run: every review is what its raw reply parses to."""
    d = _copy("baseline-lint", root, name)
    spec = "openai:synthetic"

    def manifest(m: dict) -> None:
        m["reviewer"] = {"spec": spec, "model": {"backend": "openai", "model": "synthetic", "base_url": None,
                                                 "openai_sdk": "0"},
                         "prompt": {"name": "review_direct.v1", "sha256": "0" * 64},
                         "decoding": {"max_new_tokens": 512, "temperature": 0.0, "top_p": 1.0, "seed": 0}}
        m["prompt"] = m["reviewer"]["prompt"]
        m["decoding"] = m["reviewer"]["decoding"]

    _edit_json(d / "manifest.json", manifest)
    _edit_json(d / "metadata.json", lambda m: m.update(reviewer=spec))
    rows = _rows(d)
    for r in rows:
        review = {k: r[k] for k in ("verdict", "p_buggy", "lines", "explanation", "witness")}
        r["raw"] = f"My review.\n```json\n{json.dumps(review)}\n```\n"
    _write(d, rows)
    return d


# 1. p_buggy nudges ---------------------------------------------------------------------------------------------


def test_p_buggy_nudges_are_rejected(tmp_path):
    d = _copy("baseline-always-buggy", tmp_path)
    rows = _rows(d)
    for r in rows:
        r["p_buggy"] += 9e-10 if r["label"] == "buggy" else -9e-10
    nudged = _write(d, rows)
    assert nudged["auroc"]["value"] == 1.0  # every tie ordered in the submitter's favour
    msgs = _problems(d)
    assert any("review edited" in m and "p_buggy" in m for m in msgs), msgs
    assert not any("claimed" in m for m in msgs)  # the claims match the nudged numbers: the reviews are what fails


def test_p_buggy_nudges_of_parsed_replies_are_rejected(tmp_path):
    d = _as_model_submission(tmp_path)
    v = validate_submission(d)
    assert v.ok, [str(p) for p in v.problems]
    rows = _rows(d)
    for r in rows:
        r["p_buggy"] += 9e-10 if r["label"] == "buggy" else -9e-10
    _write(d, rows)
    assert any("review edited" in m and "what its raw reply parses to" in m and "p_buggy" in m for m in _problems(d))


# 2. failed requests as a hiding place --------------------------------------------------------------------------


def test_failed_requests_are_not_a_hiding_place(tmp_path):
    d = _as_model_submission(tmp_path)
    assert validate_submission(d).ok
    rows = _rows(d)
    hidden = 0
    for r in rows:
        if (r["verdict"] == "buggy") != (r["label"] == "buggy"):  # every item the model got wrong "failed"
            r.update(error="Request timed out after 6 retries", verdict="abstain", p_buggy=0.5, lines=[], witness=None,
                     explanation="", raw="", parse_error="no reply")
            hidden += 1
    assert hidden > 50
    _write(d, rows)  # the manifest still says "complete"
    msgs = _problems(d)
    (msg,) = [m for m in msgs if "failed request" in m]
    assert f"{hidden} failed request(s)" in msg and "re-run the same `obench eval` command" in msg
    assert "asks only the failed items again" in msg


# 3. honesty about what is verified -----------------------------------------------------------------------------


def test_readme_says_what_is_and_is_not_verified():
    readme = (REPO / "README.md").read_text()
    section = readme.split("## Leaderboard: submit, validate, cite", 1)[1].split("\n## ", 1)[0]
    assert "cannot be gamed" not in readme
    assert "public" in section and "copying" in section and "verified_catch_rate" in section
    assert "obench leaderboard reproduce" in section and "self-reported" in section


# 4. reproduce ---------------------------------------------------------------------------------------------------


def test_reproduce_recomputes_deterministic_baselines_and_the_site_marks_them(tmp_path):
    subs = tmp_path / "subs"
    lint, rnd = _copy("baseline-lint", subs), _copy("baseline-random", subs)
    _copy("baseline-always-buggy", subs)
    for d in (lint, rnd):
        rec = reproduce(d, 12)
        assert rec.passed and rec.method == "recomputed" and len(rec.sample) == len(rec.matches) == 12
        again = ReproductionRecord.model_validate_json((d / REPRODUCED).read_text())
        assert again == rec and again.sample == sorted(again.sample)
        v = validate_submission(d)
        assert v.ok and v.reproduction is not None and v.reproduction.passed, [str(p) for p in v.problems]
    assert reproduce(rnd, 12).sample == rec.sample  # the sample is fixed by the predictions' content
    res = build_site(subs, tmp_path / "site", grids=tmp_path / "none", w2s=tmp_path / "none")
    assert not res.rejected
    status = {e["name"]: e["reproduced"] for e in res.entries}
    assert status == {"baseline-lint": "reproduced", "baseline-random": "reproduced",
                      "baseline-always-buggy": "self-reported"}
    assert "Reproduced" in (tmp_path / "site" / "entries" / "baseline-lint.html").read_text()
    assert "Self-reported" in (tmp_path / "site" / "entries" / "baseline-always-buggy.html").read_text()
    index = (tmp_path / "site" / "index.html").read_text()
    assert 'data-key="reproduced"' in index and ">self-reported<" in index and ">reproduced<" in index

    # a record that no longer fits the predictions, or that was edited, is rejected
    rows = _rows(rnd)
    (rnd / "predictions.jsonl").write_text("".join(json.dumps(r, separators=(",", ":")) + "\n" for r in rows))  # same rows
    assert any("changed since it was reproduced" in m for m in _problems(rnd))
    _edit_json(lint / REPRODUCED, lambda r: r.update(sample=sorted(r["sample"][1:] + ["HumanEval-0-000"])))
    msgs = _problems(lint)
    assert any("reproduced.json: sample" in m for m in msgs)


def test_reproduce_names_the_items_whose_recomputation_differs(tmp_path):
    d = _copy("baseline-random", tmp_path)
    rows = _rows(d)
    for r in rows:
        r["explanation"] = "trust me"
    _write(d, rows, claim=False)
    rec = reproduce(d, 5)
    assert not rec.passed and len(rec.mismatches) == 5 and all(m.fields == ["explanation"] for m in rec.mismatches)
    v = validate_submission(d)
    assert v.ok and v.reproduction is not None and not v.reproduction.passed  # shown, but as self-reported


@pytest.fixture(scope="module")
def mock_submission(tmp_path_factory, local_sandbox):
    """A complete test-split run of the deterministic mock model over loopback HTTP, submitted."""
    from bench.runs.evaluate import EvalConfig, evaluate
    from tasks.suite import load_suite
    from tools.mock_server import MODEL_ID, MockServer

    root = tmp_path_factory.mktemp("mock")
    with MockServer() as server:
        cfg = EvalConfig(reviewer=f"openai:{MODEL_ID}", split="test",
                         model_options=ModelOptions(concurrency=8, base_url=server.base_url))
        evaluate(cfg, load_suite(), local_sandbox, root / "run", command=["obench", "eval", "--reviewer", cfg.reviewer])
    return submit(root / "run", "mock-reviewer", root=root / "subs")


def test_reproduce_openai_mock_server_and_edited_raw_replies(mock_submission, tmp_path, local_sandbox):
    from tools.mock_server import MockServer

    d = tmp_path / "mock-reviewer"
    shutil.copytree(mock_submission, d)
    with MockServer() as server:  # another port: where the model is served is not what it is
        rec = reproduce(d, 6, model_options=ModelOptions(concurrency=4, base_url=server.base_url))
        assert rec.passed and rec.method == "regenerated" and len(rec.matches) == 6, rec
        assert rec.identity_differences == []
        res = subprocess.run([*CLI, "reproduce", str(d), "--sample", "4", "--base-url", server.base_url],
                             capture_output=True, text=True, timeout=300)
        assert res.returncode == 0 and "reproduced: all 4 sampled items re-generated" in res.stdout, res.stderr
        v = validate_submission(d, sandbox=local_sandbox)
        assert v.ok and v.reproduction is not None and v.reproduction.passed, [str(p) for p in v.problems]

        rows = _rows(d)
        for r in rows:
            r["raw"] += "\n"  # parses to the same review: validation cannot tell, reproduction can
        _write(d, rows, claim=False)
        v = validate_submission(d, sandbox=local_sandbox)
        assert not v.ok and [str(p) for p in v.problems] == [
            "reproduced.json: predictions_sha256: predictions.jsonl changed since it was reproduced; run `obench "
            "leaderboard reproduce` again (or delete the file)"]
        res = subprocess.run([*CLI, "reproduce", str(d), "--sample", "4", "--base-url", server.base_url],
                             capture_output=True, text=True, timeout=300)
    assert res.returncode == 1 and "not reproduced: 4 of 4 sampled items differ" in res.stderr, res.stderr
    rec = ReproductionRecord.model_validate_json((d / REPRODUCED).read_text())
    assert not rec.passed and all(f"{m.candidate_id} (raw)" in " ".join(res.stderr.split()) for m in rec.mismatches)
    v = validate_submission(d, sandbox=local_sandbox)
    assert v.ok and v.reproduction is not None and not v.reproduction.passed


@pytest.mark.slow
def test_reproduce_tiny_hf_model_and_edited_raw_replies(tmp_path, local_sandbox):
    from tinylm import CHAT_TEMPLATE, build_tiny_lm

    from bench.models import GenerateConfig
    from bench.runs.evaluate import EvalConfig, evaluate
    from tasks.suite import load_suite

    model = build_tiny_lm(tmp_path / "tiny", chat_template=CHAT_TEMPLATE)
    cfg = EvalConfig(reviewer=f"hf:{model}", split="test", generate=GenerateConfig(max_new_tokens=4),
                     model_options=ModelOptions(concurrency=8, device="cpu"))
    evaluate(cfg, load_suite(), local_sandbox, tmp_path / "run", command=["obench", "eval"])
    d = submit(tmp_path / "run", "tiny", root=tmp_path / "subs")
    assert validate_submission(d, sandbox=local_sandbox).ok
    rec = reproduce(d, 4, model_options=ModelOptions(concurrency=2))
    assert rec.passed and rec.method == "regenerated" and rec.decoding["max_new_tokens"] == 4, rec
    rows = _rows(d)
    for r in rows:
        r["raw"] = r["raw"] + " (edited)"
    _write(d, rows, claim=False)
    rec = reproduce(d, 4, model_options=ModelOptions(concurrency=2))
    assert not rec.passed and [m.fields for m in rec.mismatches] == [["raw"]] * 4


# 5. the validator's own bootstrap seed -------------------------------------------------------------------------


def test_validator_uses_its_own_bootstrap_seed(tmp_path):
    d = _copy("baseline-random", tmp_path)
    favourable = 12345
    _edit_json(d / "manifest.json", lambda m: m["seeds"].update(bootstrap=favourable))
    theirs = _write(d, _rows(d))  # claims at the submitter's seed: consistent, so accepted
    v = validate_submission(d)
    assert v.ok, [str(p) for p in v.problems]
    ours = compute_scores(v.predictions, seed=BOOTSTRAP_SEED)
    assert v.scores["bootstrap"]["seed"] == BOOTSTRAP_SEED != favourable
    assert v.scores["auroc"] == ours["auroc"] and v.scores["auroc"]["ci"] != theirs["auroc"]["ci"]
    assert v.scores["auroc"]["value"] == theirs["auroc"]["value"]


# 6. localization cannot be maxed by listing every line ---------------------------------------------------------


def test_localization_cannot_be_maxed_by_listing_every_line():
    def loc(lines: tuple[int, ...]) -> float | None:
        items = [Item(f"T{i}", True, "buggy", 0.9, lines=lines, changed_lines=(3 + i % 5,)) for i in range(20)]
        items += [Item(f"T{i}", False, "correct", 0.1) for i in range(20)]
        return metric_values(items)["localization"]

    assert loc(tuple(range(1, 200))) == 0.0
    assert loc(tuple(range(1, LOCALIZATION_MAX_LINES + 2))) == 0.0
    assert loc((3, 4, 5)) == pytest.approx(0.6) and LOCALIZATION_MAX_LINES == 3
    assert loc((3, 3, 3, 3)) == pytest.approx(0.2)  # one line named four times is one line


# 7. hostile submissions never crash validate or build ----------------------------------------------------------


def _hostile(subs: Path) -> dict[str, str]:
    """Hostile submissions next to the good one; name -> the message each must get."""
    want = {}

    def make(name: str, message: str) -> Path:
        want[name] = message
        return _copy("baseline-random", subs, name)

    d = make("bad-utf8", "metadata.json: is not UTF-8 text (byte 0xff at offset")
    (d / "metadata.json").write_bytes(b'{"name": "\xff\xfe"}')
    d = make("dir-for-file", "predictions.jsonl: is a directory, not a file")
    (d / "predictions.jsonl").unlink()
    (d / "predictions.jsonl").mkdir()
    d = make("huge-float", "metadata.json: not acceptable JSON: number 1e999 is out of range")
    (d / "metadata.json").write_text((d / "metadata.json").read_text().replace(_n_items(d), '"n_items": 1e999'))
    d = make("huge-int", "metadata.json: not acceptable JSON: integer 100000000000... (5001 digits) is out of range")
    (d / "metadata.json").write_text((d / "metadata.json").read_text().replace(_n_items(d), '"n_items": 1' + "0" * 5000))
    d = make("huge-int-line", "predictions.jsonl:2: not acceptable JSON: integer")
    rows = (d / "predictions.jsonl").read_text().splitlines()
    rows[1] = rows[1].replace('"input_tokens": 0', '"input_tokens": ' + "9" * 10000)
    (d / "predictions.jsonl").write_text("\n".join(rows) + "\n")
    d = make("deep", "metadata.json: not acceptable JSON: nested deeper than 32 levels")
    (d / "metadata.json").write_text("[" * 100_000 + "]" * 100_000)
    d = make("deep-ish", "manifest.json: not acceptable JSON: nested deeper than 32 levels")
    _edit_json(d / "manifest.json", lambda m: m["reviewer"].update(model=json.loads('{"a": ' * 500 + "1" + "}" * 500)))
    d = make("wrong-types-manifest", "manifest.json: suite.content_hash: Input should be a valid string")
    _edit_json(d / "manifest.json", lambda m: (m["suite"].update(content_hash=["x"]), m.update(prompt={"x": 1})))
    d = make("wrong-types-metadata", "metadata.json: claimed.auroc.value: Input should be a valid number")
    _edit_json(d / "metadata.json", lambda m: (m["claimed"].update(auroc={"value": "high", "ci": "ab"}),
                                               m.update(org=5, n_items=str(m["n_items"]))))
    d = make("wrong-types-predictions", "predictions.jsonl:1: lines: Input should be a valid list")
    preds = _rows(d)
    preds[0].update(lines="1-3", p_buggy="high")
    (d / "predictions.jsonl").write_text("\n".join([json.dumps(preds[0]), "[1, 2]", "5", "null",
                                                    *map(json.dumps, preds[4:])]) + "\n")
    d = make("bad-spec", "manifest.json: reviewer.spec: 'random:abc': random reviewer seed must be an integer")
    _edit_json(d / "manifest.json", lambda m: m["reviewer"].update(spec="random:abc"))
    _edit_json(d / "metadata.json", lambda m: m.update(reviewer="random:abc"))
    d = make("symlinked-file", "predictions.jsonl: is a symbolic link")
    (d / "predictions.jsonl").unlink()
    (d / "predictions.jsonl").symlink_to(subs / "good" / "predictions.jsonl")
    d = make("bad-record", "reproduced.json: predictions_sha256: Field required")
    (d / REPRODUCED).write_text('{"passed": "yes", "sample": {"a": 1}}')
    d = make("extra-files", "notes.txt, zz: unexpected files")
    (d / "notes.txt").write_text("trust me")
    (d / "zz").symlink_to("/etc/passwd")
    d = make("fifo", "metadata.json: is not a regular file")
    (d / "metadata.json").unlink()
    os.mkfifo(d / "metadata.json")
    make("markup-[red]-\x1b[2J", "metadata.json: name: Value error, use 1-64 letters")  # rich markup, ANSI escape
    want["linked-dir"] = "not a directory"
    (subs / "linked-dir").symlink_to(subs / "good")
    return want


def test_hostile_submissions_never_crash_validate_or_build(tmp_path):
    subs = tmp_path / "subs"
    _copy("baseline-random", subs, "good")
    want = _hostile(subs)
    weird = os.fsdecode(b"bytes-\xff")  # a directory name that is not UTF-8
    _copy("baseline-random", subs, weird)

    res = subprocess.run([*CLI, "build", "--submissions", str(subs), "--out", str(tmp_path / "site")],
                         capture_output=True, text=True, timeout=600)
    text = res.stdout + res.stderr
    assert res.returncode == 1 and "Traceback" not in text, text[-3000:]
    doc = json.loads((tmp_path / "site" / "results.json").read_text())
    assert [e["name"] for e in doc["entries"]] == ["good"]
    assert len(doc["rejected"]) == len(want) + 1 and (tmp_path / "site" / "entries" / "good.html").exists()
    assert "bytes-\\udcff" in (tmp_path / "site" / "index.html").read_text()

    res = subprocess.run([*CLI, "validate", *(str(subs / n) for n in want), str(subs / "good")], capture_output=True,
                         text=True, timeout=300)
    text = res.stdout + res.stderr
    assert res.returncode == 1 and "Traceback" not in text, text[-3000:]
    flat = " ".join(res.stderr.split())
    for name, message in want.items():
        block = flat.split(f"invalid: {printable(str(subs / name))} ", 1)[1].split(" invalid: ", 1)[0]
        assert message in block, (name, message, block[:600])
    assert f"valid: {subs / 'good'}:" in " ".join(res.stdout.split())
    res = subprocess.run([*CLI, "validate", str(subs / "good")], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0 and "valid:" in res.stdout, res.stderr
