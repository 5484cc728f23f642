"""bench.w2s: weak-to-strong supervision (weak labels -> student -> PGR on test), and `obench w2s`.

Most tests use a synthetic student (label signal + noise per text, instant) or the tiny GPT-2
of tests/tinylm.py on a slice of the suite; only the reviewer-spec weak supervisor needs docker.
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
import typer
from tinylm import build_tiny_lm
from typer.testing import CliRunner

from bench.runs.rundir import Prediction, RunManifest, write_manifest, write_predictions
from bench.w2s import (
    TrainConfig,
    W2SConfig,
    W2SData,
    W2SError,
    WeakLabels,
    alpha_at,
    aux_conf_loss,
    embed,
    hardened,
    leaderboard_summary,
    load_data,
    naive_loss,
    ngram_weak,
    pgr_stats,
    run_w2s,
    weak_from_runs,
)
from bench.w2s.students import create_student
from obench.w2s_cmd import w2s_cmd
from tasks.suite import load_suite

N_BOOT = 200


@pytest.fixture(scope="module")
def suite():
    return load_suite()


@pytest.fixture(scope="module")
def data(suite) -> W2SData:
    return load_data(suite)


@pytest.fixture(scope="module")
def tiny_lm(tmp_path_factory) -> Path:
    return build_tiny_lm(tmp_path_factory.mktemp("tiny-lm") / "model")


class SyntheticEncoder:
    """A stand-in student: 16-d Gaussian noise seeded by the text, plus ``strength`` * (+1 buggy / -1 correct) on
    the first coordinate, so a probe trained on the truth reaches AUROC ~0.9."""

    spec = "synthetic"

    def __init__(self, data: W2SData, strength: float = 1.0, dim: int = 16) -> None:
        self.buggy = {e.text: e.buggy for e in data.train + data.test}
        self.strength, self.dim, self.calls = strength, dim, 0

    def identity(self) -> dict[str, Any]:
        return {"spec": self.spec, "id": f"sha256:synthetic-{self.strength}-{self.dim}"}

    def encode(self, texts: list[str]) -> np.ndarray:
        self.calls += 1
        rows = []
        for t in texts:
            v = np.random.default_rng(int(hashlib.sha256(t.encode()).hexdigest()[:12], 16)).normal(size=self.dim)
            v[0] += self.strength * (1.0 if self.buggy[t] else -1.0)
            rows.append(v)
        return np.array(rows, dtype=np.float32)


def given_weak(data: W2SData, train: dict[str, float], test: dict[str, float], name: str) -> WeakLabels:
    return WeakLabels({"kind": "given", "spec": name}, train, test)


def truth(xs) -> dict[str, float]:
    return {e.candidate_id: float(e.buggy) for e in xs}


def uniform(xs, seed: int) -> dict[str, float]:
    rng = np.random.default_rng(seed)
    return {e.candidate_id: float(rng.random()) for e in xs}


def app() -> typer.Typer:
    a = typer.Typer()
    a.command()(w2s_cmd)
    return a


def invoke(*args: str) -> Any:
    return CliRunner().invoke(app(), list(args))


# ---------------------------------------------------------------- losses


def test_aux_conf_loss_matches_a_hand_computed_value():
    logits = torch.tensor([2.0, -1.0, 0.0, 1.0])
    weak = torch.tensor([1.0, 0.0, 0.5, 0.0])
    # p = sigmoid(z) = [0.8808, 0.2689, 0.5, 0.7311]; mean weak label m = 0.375.
    # 1 - p = [0.1192, 0.7311, 0.5, 0.2689], sorted [0.1192, 0.2689, 0.5, 0.7311]; the 0.375-quantile sits at
    # position 0.375 * 3 = 1.125: 0.2689 + 0.125 * (0.5 - 0.2689) = 0.2978. Hardened = (1 - p) < 0.2978 = [1, 0, 0, 1].
    assert hardened(logits, weak).tolist() == [1.0, 0.0, 0.0, 1.0]
    # alpha = 0.5: targets = 0.5 * weak + 0.5 * hardened = [1, 0, 0.25, 0.5]. Cross-entropies:
    #   -log s(2) = log(1 + e^-2) = 0.126928;  -log(1 - s(-1)) = log(1 + e^-1) = 0.313262;
    #   p = 0.5: log 2 = 0.693147;  0.5 * log(1 + e^-1) + 0.5 * log(1 + e^1) = 0.5 * (0.313262 + 1.313262) = 0.813262.
    # Mean: (0.126928 + 0.313262 + 0.693147 + 0.813262) / 4 = 0.486650.
    assert aux_conf_loss(logits, weak, 0.5).item() == pytest.approx(0.486650, abs=1e-5)
    assert aux_conf_loss(logits, weak, 0.0).item() == pytest.approx(naive_loss(logits, weak).item(), abs=1e-7)


def test_alpha_warms_up_linearly_then_stays():
    assert alpha_at(0.0, 0.5, 0.2) == 0.0
    assert alpha_at(0.1, 0.5, 0.2) == pytest.approx(0.25)
    assert alpha_at(0.2, 0.5, 0.2) == pytest.approx(0.5)
    assert alpha_at(0.9, 0.5, 0.2) == pytest.approx(0.5)
    assert alpha_at(0.0, 0.75, 0.0) == 0.75


def test_hardening_matches_the_weak_class_balance():
    logits = torch.linspace(-3, 3, 100)
    for m in (0.2, 0.5, 0.8):
        weak = torch.full((100,), m)
        h = hardened(logits, weak)
        assert abs(h.mean().item() - m) <= 0.02
        assert h[-1] == 1.0 and h[0] == 0.0  # the most confident predictions stay on their side


# ---------------------------------------------------------------- PGR arithmetic


def test_pgr_is_one_at_the_ceiling_zero_at_the_floor_and_undefined_without_a_gap():
    rng = np.random.default_rng(0)
    y = np.array([0, 1] * 60)
    tasks = [f"t{i // 4}" for i in range(len(y))]
    weak = rng.random(len(y))
    ceil = y * 0.6 + rng.random(len(y)) * 0.5
    at_ceiling = pgr_stats("auroc", y, tasks, weak, [ceil, ceil], [ceil, ceil], n_boot=N_BOOT)
    assert at_ceiling.pgr.value == pytest.approx(1.0) and at_ceiling.pgr.undefined is None
    assert at_ceiling.pgr.ci[0] == pytest.approx(1.0) and at_ceiling.per_seed_pgr[0].value == pytest.approx(1.0)
    at_floor = pgr_stats("auroc", y, tasks, weak, [weak], [ceil], n_boot=N_BOOT)
    assert at_floor.pgr.value == pytest.approx(0.0)
    no_gap = pgr_stats("auroc", y, tasks, weak, [ceil], [weak], n_boot=N_BOOT)
    assert no_gap.pgr.value is None and "no gap" in (no_gap.pgr.undefined or "")
    with pytest.raises(ValueError):
        pgr_stats("auroc", y, tasks, weak, [ceil], [], n_boot=N_BOOT)


# ---------------------------------------------------------------- the experiment, synthetic student


def _run(data: W2SData, weak: WeakLabels, out: Path, methods=("naive", "aux-conf", "bootstrap"), seeds=(0, 1),
         strength: float = 1.0):
    cfg = W2SConfig(methods=tuple(methods), seeds=tuple(seeds), n_boot=N_BOOT, train=TrainConfig(epochs=20))
    return run_w2s(cfg, data, weak, SyntheticEncoder(data, strength), out)


def test_weak_labels_equal_to_the_truth_recover_the_whole_gap(data, tmp_path):
    # The weak labels on train are the truth; the floor predicts nothing on test (a constant), so
    # there is a gap, and a student trained on true labels should close it.
    weak = given_weak(data, truth(data.train), {e.candidate_id: 0.5 for e in data.test}, "truth-on-train")
    res = _run(data, weak, tmp_path)
    assert res.weak["auroc"].value == pytest.approx(0.5)
    for m in res.methods:
        mean = m.mean["auroc"]
        assert mean.ceiling.value > 0.8 and mean.gap.ci[0] > 0, m.method
        assert mean.pgr.value == pytest.approx(1.0, abs=0.05), m.method
        assert mean.pgr.ci[0] is not None and mean.pgr.ci[0] <= mean.pgr.value <= mean.pgr.ci[1]
    naive = res.method("naive").mean["auroc"]
    assert naive.pgr.value == pytest.approx(1.0, abs=1e-9)  # same labels, same seed: the ceiling itself


def test_random_weak_labels_do_not_beat_the_floor(data, tmp_path):
    weak = given_weak(data, uniform(data.train, 1), uniform(data.test, 2), "random")
    res = _run(data, weak, tmp_path)
    for m in res.methods:
        mean = m.mean["auroc"]
        assert mean.ceiling.value > 0.8, m.method
        assert mean.pgr.value is not None
        assert mean.w2s.value - mean.weak.value < 0.1, m.method  # within test-set noise of the floor
        assert mean.pgr.ci[0] <= 0.0 or mean.pgr.value < 0.25, (m.method, mean.pgr)


def test_outputs_predictions_summary_and_coverage(data, suite, tmp_path):
    part = W2SData(data.train[:200], data.test)
    weak = given_weak(part, truth(part.train), uniform(part.test, 3), "partial")
    res = _run(data, weak, tmp_path, methods=("aux-conf", "bootstrap"), seeds=(3,))
    assert res.n_train == 200 and res.n_test == len(data.test) and res.seeds == [3]
    for name in ("manifest.json", "results.json", "predictions.jsonl", "weak_labels.jsonl", "report.md", "w2s.png"):
        assert (tmp_path / name).stat().st_size > 0, name
    man = json.loads((tmp_path / "manifest.json").read_text())
    assert man["status"] == "complete" and man["kind"] == "w2s" and man["schema_version"] == 1
    assert man["weak"]["sha256"].startswith("sha256:") and man["student"]["id"].startswith("sha256:")
    assert man["data"]["n_train"] == 200 and "labelled 200 of the" in man["data"]["notes"][0]
    rows = [json.loads(x) for x in (tmp_path / "predictions.jsonl").read_text().splitlines()]
    roles = {(r["role"], r["method"], r["seed"]) for r in rows}
    assert roles == {("weak", None, None), ("ceiling", None, 3), ("w2s", "aux-conf", 3), ("w2s", "bootstrap", 3),
                     ("intermediate", "bootstrap", 3)}
    assert len(rows) == 5 * len(data.test) and all(0.0 <= r["p_buggy"] <= 1.0 for r in rows)
    assert res.method("bootstrap").seeds[0].intermediate is not None
    report = (tmp_path / "report.md").read_text()
    assert "PGR" in report and "aux-conf" in report and "![weak / w2s / ceiling](w2s.png)" in report
    summary = leaderboard_summary(tmp_path)
    assert summary["kind"] == "w2s" and summary["metrics"] == ["auroc", "catch@5%fpr"]
    assert len(summary["rows"]) == 4 and summary["weak"]["spec"] == "partial"
    row = summary["rows"][0]
    assert set(row) == {"method", "metric", "weak", "w2s", "w2s_ci", "ceiling", "ceiling_ci", "gap", "gap_ci", "pgr",
                        "pgr_ci", "pgr_seed_sd", "pgr_per_seed", "undefined"}
    assert (row["pgr"] is None) == (row["undefined"] is not None)
    json.dumps(summary)


def test_the_w2s_view_recomputes_every_number_from_the_predictions(data, tmp_path):
    """The site shows what predictions.jsonl gives, never what results.json claims: an edited number, a missing
    prediction or no predictions at all reject the experiment, with the reason."""
    import shutil

    from bench.w2s import recompute_results
    from leaderboard.site import load_w2s

    part = W2SData(data.train[:200], data.test)
    weak = given_weak(part, truth(part.train), uniform(part.test, 3), "partial")
    res = _run(data, weak, tmp_path / "x" / "good", methods=("naive", "bootstrap"), seeds=(0, 1))
    assert recompute_results(tmp_path / "x" / "good").model_dump() == res.model_dump()
    root, site = tmp_path / "x", tmp_path / "site"
    (site / "plots").mkdir(parents=True)
    for name in ("edited", "dropped", "bare"):
        shutil.copytree(root / "good", root / name, ignore=shutil.ignore_patterns("cache"))
    doc = json.loads((root / "edited" / "results.json").read_text())
    doc["methods"][0]["mean"]["auroc"]["pgr"]["value"] = 0.99
    (root / "edited" / "results.json").write_text(json.dumps(doc))
    lines = (root / "dropped" / "predictions.jsonl").read_text().splitlines()
    (root / "dropped" / "predictions.jsonl").write_text("\n".join(lines[:-1]) + "\n")
    (root / "bare" / "predictions.jsonl").unlink()
    shown, rejected = load_w2s(root, site)
    assert [x["name"] for x in shown] == ["good"]
    assert shown[0]["rows"][0]["pgr"] == res.methods[0].mean["auroc"].pgr.value
    why = dict(r.split(": ", 1) for r in rejected)
    assert set(why) == {"edited", "dropped", "bare"}
    assert why["edited"] == "results.json claims other numbers than its predictions give (naive auroc)"
    assert "do not cover exactly the" in why["dropped"] and "no predictions.jsonl" in why["bare"]


def test_embedding_cache_is_reused(data, tmp_path):
    enc = SyntheticEncoder(data)
    texts = [e.text for e in data.test[:20]]
    a, n1 = embed(enc, texts, tmp_path)
    b, n2 = embed(enc, texts[::-1] + [data.train[0].text], tmp_path)
    assert (n1, n2, enc.calls) == (20, 1, 2)
    assert np.array_equal(a, b[:20][::-1])


def test_an_interrupted_embedding_pass_resumes_with_the_same_chunks(data, tmp_path):
    """The cache is saved after every chunk: a pass killed midway keeps what it did, and finishes the same."""
    texts = [e.text for e in data.test[:20]]

    class Dies(SyntheticEncoder):
        def encode(self, batch):
            if self.calls == 2:
                raise KeyboardInterrupt
            return super().encode(batch)

    enc = Dies(data)
    with pytest.raises(KeyboardInterrupt):
        embed(enc, texts, tmp_path / "a", chunk=6)
    again = SyntheticEncoder(data)
    resumed, n = embed(again, texts, tmp_path / "a", chunk=6)
    assert n == 20 - 12 and again.calls == 2  # 2 chunks of 6 were saved; 8 left: chunks of 6 and 2
    whole, _ = embed(SyntheticEncoder(data), texts, tmp_path / "b", chunk=6)
    assert np.array_equal(resumed, whole)


# ---------------------------------------------------------------- weak supervisors


def test_ngram_weak_supervisor(suite, data):
    part = W2SData(data.train[:50], data.test[:30])
    a, b = ngram_weak(suite, part, 40, seed=0), ngram_weak(suite, part, 40, seed=0)
    assert dict(a.train) == dict(b.train) and a.digest() == b.digest()
    assert set(a.train) == {e.candidate_id for e in part.train} and set(a.test) == {e.candidate_id for e in part.test}
    assert all(0.0 <= v <= 1.0 for v in [*a.train.values(), *a.test.values()])
    assert a.source["labelled_split"] == "dev" and a.source["n_labelled"] == 40 and a.spec == "ngram:40"
    assert ngram_weak(suite, part, 40, seed=1).digest() != a.digest()
    with pytest.raises(W2SError, match="dev split has only"):
        ngram_weak(suite, part, 10_000)


def fake_run(path: Path, suite, split: str, p: dict[str, float] | None = None, *, limit: int = 0,
             fingerprint: str = "fp-lint", content_hash: str | None = None, status: str = "complete") -> Path:
    """A run directory as `obench eval` writes it (only what bench.w2s reads is meaningful)."""
    items = sorted(suite.split(split), key=lambda c: c.candidate_id)[: limit or None]
    write_predictions(path, [Prediction(candidate_id=c.candidate_id, task_id=c.task_id, label=c.label,
                                        verdict="correct", p_buggy=(p or {}).get(c.candidate_id, 0.3)) for c in items])
    write_manifest(path, RunManifest(
        status=status, command=["obench", "eval"],
        suite={"name": suite.manifest.name, "version": suite.manifest.version,
               "content_hash": content_hash or suite.manifest.content_hash},
        split=split, limit=limit, n_items=len(items), items_sha256="x", reviewer={"spec": "lint"},
        reviewer_fingerprint=fingerprint, protocol="direct", prompt=None, decoding={}, seeds={"seed": 0}, harness={},
        gold_check={}, packages={}, host={}, first_started_at="t", started_at="t"))
    return path


def test_weak_from_stored_runs(suite, data, tmp_path):
    train = fake_run(tmp_path / "train", suite, "train", truth(data.train), limit=100)
    test = fake_run(tmp_path / "test", suite, "test", uniform(data.test, 4))
    weak = weak_from_runs(suite, train, test)
    assert len(weak.train) == 100 and len(weak.test) == len(data.test) and weak.spec == "lint"
    assert weak.source["train_run"]["reviewer_fingerprint"] == "fp-lint"
    res = _run(data, weak, tmp_path / "out", methods=("naive",), seeds=(0,))
    assert res.n_train == 100


@pytest.mark.parametrize("case, message", [
    ("wrong-split", "is a run on the 'test' split; --weak needs a run on the 'train' split"),
    ("other-suite", "sha256:0000000000000000000000000000000000000000000000000000000000000000\\), not of oversightbench-v"),
    ("unfinished", "unfinished"),
    ("other-reviewer", "different reviewers"),
    ("missing", "no such run directory"),
])
def test_weak_runs_that_do_not_fit_are_refused(suite, tmp_path, case, message):
    train, test = tmp_path / "train", tmp_path / "test"
    fake_run(test, suite, "test")
    if case == "wrong-split":
        fake_run(train, suite, "test")
    elif case == "other-suite":
        fake_run(train, suite, "train", content_hash="sha256:" + "0" * 64)
    elif case == "unfinished":
        fake_run(train, suite, "train", status="running")
    elif case == "other-reviewer":
        fake_run(train, suite, "train", fingerprint="fp-other")
    else:
        train = tmp_path / "nope"
    with pytest.raises(W2SError, match=message):
        weak_from_runs(suite, train, test)


# ---------------------------------------------------------------- the CLI and real (tiny) students


@pytest.mark.parametrize("args, message", [
    (["--weak", "ngram", "--method", "fancy"], "unknown method 'fancy'; methods: naive, aux-conf, bootstrap"),
    (["--weak", "ngram", "--student", "bert"], "unknown student 'bert'; use minilm or hf:<hub-id-or-path>"),
    (["--weak", "ngram", "--student", "hf:/does/not/exist"], "no model directory"),
    (["--weak", "ngram:abc"], "N must be an integer"),
    (["--weak", "ngram", "--weak-test", "/tmp"], "--weak-test goes with --weak RUN_DIR"),
    (["--weak", "./no/such/run"], "no such run directory"),
    (["--weak", "no-such-reviewer"], "unknown reviewer 'no-such-reviewer'"),
])
def test_cli_bad_input_is_a_clear_error(args, message, tmp_path):
    r = invoke(*args, "--out", str(tmp_path / "out"))
    assert r.exit_code == 2, r.output
    assert message in " ".join(r.output.split()), r.output


def test_cli_wrong_split_run(suite, tmp_path, tiny_lm):
    run = fake_run(tmp_path / "run", suite, "test")
    r = invoke("--weak", str(run), "--student", f"hf:{tiny_lm}", "--out", str(tmp_path / "out"))
    assert r.exit_code == 2 and "needs a run on the 'train' split" in " ".join(r.output.split()), r.output


def test_cli_same_seed_gives_identical_results(tiny_lm, tmp_path):
    args = ["--weak", "ngram:40", "--student", f"hf:{tiny_lm}", "--method", "naive,aux-conf", "--method", "bootstrap",
            "--seeds", "2", "--epochs", "10", "--limit-train", "80", "--limit-test", "60", "--n-boot", "100"]
    docs = []
    for name in ("a", "b"):
        r = invoke(*args, "--out", str(tmp_path / name))
        assert r.exit_code == 0, r.output
        assert "P_ceiling" in r.output
        docs.append((tmp_path / name / "results.json").read_text())
    assert docs[0] == docs[1]
    assert (tmp_path / "a" / "predictions.jsonl").read_text() == (tmp_path / "b" / "predictions.jsonl").read_text()
    res = json.loads(docs[0])
    assert [m["method"] for m in res["methods"]] == ["naive", "aux-conf", "bootstrap"] and res["seeds"] == [0, 1]
    assert res["n_train"] == 80 and res["n_test"] == 60 and res["mode"] == "probe"
    man = json.loads((tmp_path / "a" / "manifest.json").read_text())
    assert man["student"]["weights_sha256"].startswith("sha256:") and man["weak"]["kind"] == "ngram"
    assert man["hyperparameters"]["epochs"] == 10 and man["timings"]["embedded_now"] == 140
    r = invoke(*args, "--out", str(tmp_path / "a"), "--json")  # again into the same directory: cached embeddings
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["kind"] == "w2s"
    assert json.loads((tmp_path / "a" / "manifest.json").read_text())["timings"]["embedded_now"] == 0
    assert (tmp_path / "a" / "results.json").read_text() == docs[0]


def test_finetune_tiny_lm_one_short_epoch(suite, tiny_lm, tmp_path):
    data = load_data(suite, 24, 24)
    enc = create_student(f"hf:{tiny_lm}", max_length=128)
    before = {k: v.clone() for k, v in enc.load()[1].state_dict().items()}
    cfg = W2SConfig(methods=("naive", "aux-conf", "bootstrap"), seeds=(0,), probe=False, n_boot=N_BOOT,
                    train=TrainConfig(epochs=1, batch_size=8, base_lr=1e-4, bootstrap_dims=4))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a 64-wide model only loses to thread contention on a busy machine
    try:
        res = run_w2s(cfg, data, ngram_weak(suite, data, 40), enc, tmp_path)
    finally:
        torch.set_num_threads(threads)
    assert res.mode == "finetune" and [m.method for m in res.methods] == ["naive", "aux-conf", "bootstrap"]
    assert all(math.isfinite(m.seeds[0].w2s["auroc"].value) for m in res.methods)
    after = enc.load()[1].state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)  # the pretrained weights are copied, never trained


@pytest.mark.docker
def test_reviewer_spec_weak_supervisor_runs_on_train_and_test(suite, eval_sandbox, tmp_path):
    from bench.w2s import resolve_weak

    data = load_data(suite, 40, 30)
    weak = resolve_weak(suite, data, "lint", None, tmp_path, lambda: eval_sandbox, limit_train=40, limit_test=30)
    assert weak.source["kind"] == "spec" and weak.spec == "lint"
    assert set(weak.train) == {e.candidate_id for e in data.train}
    assert set(weak.test) == {e.candidate_id for e in data.test}
    for split in ("train", "test"):
        assert json.loads((tmp_path / "weak" / split / "manifest.json").read_text())["split"] == split
    res = _run(data, weak, tmp_path / "out", methods=("naive",), seeds=(0,))
    assert res.weak_spec == "lint" and res.n_train == 40
    # A stored train run alone: its reviewer is rebuilt from the manifest and run on test (same fingerprint).
    again = resolve_weak(suite, data, str(tmp_path / "weak" / "train"), None, tmp_path / "again",
                         lambda: eval_sandbox, limit_test=30)
    assert again.source["kind"] == "run" and dict(again.test) == dict(weak.test)
    assert (tmp_path / "again" / "weak" / "test" / "predictions.jsonl").exists()
