"""The run directory: what a run leaves behind, and how to re-render it.

Layout::

    manifest.json       RunManifest: suite, split, reviewer, protocol, prompt hash, decoding,
                        seeds, harness image digest, package versions, times, host
    predictions.jsonl   one Prediction per candidate (sorted by candidate_id), raw model text kept
    scores.json         every metric as {"value", "ci"}, n_items, breakdowns
    report.md           the human-readable report
    roc.png, catch_by_subtlety.png, catch_by_operator.png
    store.sqlite        the run store (resume state; see bench.runs.store)

``scores.json``, ``report.md`` and the plots are derived from ``predictions.jsonl``
alone, so ``obench report RUN_DIR`` re-renders them without the suite or a model.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import jinja2
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bench.metrics.scoring import METRICS, PRIMARY, SUBTLETY_BUCKETS, Estimate, Item, breakdowns, score, subtlety_bucket

SCHEMA_VERSION = 1
N_BOOT = 1000
TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"


class Prediction(BaseModel):
    """One reviewed candidate: its facts from the suite, the review, and the witness check."""

    model_config = ConfigDict(extra="forbid")
    schema_version: int = SCHEMA_VERSION
    candidate_id: str
    task_id: str
    label: str
    origin: str = ""
    operator: str = ""
    family: str = ""
    subtlety: float = 0.0
    changed_lines: list[int] = Field(default_factory=list)
    verdict: str
    p_buggy: float
    lines: list[int] = Field(default_factory=list)
    explanation: str = ""
    witness: str | None = None
    witness_status: str = "none"
    witness_detail: str = ""
    raw: str = ""
    parse_error: str | None = None
    error: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    transcript: list[dict[str, Any]] = Field(default_factory=list, description="protocol turns, when not direct")

    def item(self) -> Item:
        """The scoring view of this prediction."""
        return Item(task_id=self.task_id, buggy=self.label == "buggy", verdict=self.verdict, p_buggy=self.p_buggy,
                    witness_given=self.witness is not None and self.witness_status not in ("none", "infra"),
                    witness_differs=self.witness_status == "verified", lines=tuple(self.lines),
                    changed_lines=tuple(self.changed_lines), family=self.family, subtlety=self.subtlety,
                    operator=self.operator)


def utc_now() -> str:
    """The current time as manifests record it (UTC, ISO 8601, seconds)."""
    import datetime as _dt

    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


class ManifestBase(BaseModel):
    """What every run manifest records: the command, suite, split, seeds, harness, versions, host and times."""

    model_config = ConfigDict(extra="forbid")
    schema_version: int = SCHEMA_VERSION
    status: str = Field(description="running | complete | incomplete")
    command: list[str]
    suite: dict[str, Any]
    split: str
    limit: int
    decoding: dict[str, Any]
    seeds: dict[str, int]
    harness: dict[str, Any]
    packages: dict[str, str]
    host: dict[str, Any]
    first_started_at: str
    started_at: str
    ended_at: str | None = None
    counts: dict[str, int] = Field(default_factory=dict)


class RunManifest(ManifestBase):
    """Everything needed to reproduce and cite an evaluation run."""

    n_items: int
    items_sha256: str
    reviewer: dict[str, Any]
    reviewer_fingerprint: str
    protocol: str
    prompt: dict[str, Any] | None
    gold_check: dict[str, Any]
    usage: dict[str, int] = Field(default_factory=dict)
    timings: dict[str, float] = Field(default_factory=dict, description="seconds per phase of the last invocation")
    active_seconds: float | None = Field(
        default=None, description="working time over every invocation of this run: each one from its start to its "
        "last stored review (or its end); gaps between invocations are not counted. None: unknown, since the first "
        "recorded invocation found reviews already stored (an older obench, or a store shared with another run)")
    leaderboard_eligible: bool = True


class RunDirError(ValueError):
    """A run directory is missing files or holds records this version cannot read."""


MIN_FREE_MB = 64


def preflight(out: Path, min_free_mb: int = MIN_FREE_MB) -> None:
    """Check, before any work starts, that ``out`` can be created and written and its disk has room.

    Raises:
        RunDirError: naming the directory, the reason and what to do.
    """
    import shutil

    out = Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".obench-write-probe"
        with open(probe, "wb") as f:
            f.write(b"\0" * 65536)
            f.flush()
            os.fsync(f.fileno())
        probe.unlink()
    except OSError as exc:
        raise RunDirError(f"cannot write to the run directory {out}: {exc.strerror or exc}; choose another --out "
                          "(or free space on its disk) and run again") from exc
    free_mb = shutil.disk_usage(out).free // (1 << 20)
    if free_mb < min_free_mb:
        raise RunDirError(f"only {free_mb} MB free on the disk holding {out}; a run needs at least {min_free_mb} MB "
                          "for its store and files: free some space or choose another --out")


def write_predictions(out: Path, predictions: list[Prediction]) -> None:
    rows = sorted(predictions, key=lambda p: p.candidate_id)
    text = "".join(json.dumps(p.model_dump(), sort_keys=True, ensure_ascii=False) + "\n" for p in rows)
    _atomic_write(out / "predictions.jsonl", text)


def write_manifest(out: Path, manifest: RunManifest) -> None:
    _atomic_write(out / "manifest.json", json.dumps(manifest.model_dump(), indent=2, sort_keys=True) + "\n")


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def load_predictions(run_dir: Path) -> list[Prediction]:
    """The predictions of a run directory.

    Raises:
        RunDirError: no predictions file, or a line that is not a valid prediction (with its number).
    """
    path = Path(run_dir) / "predictions.jsonl"
    if not path.exists():
        raise RunDirError(f"{path} does not exist: is {run_dir} a run directory written by `obench eval`?")
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            out.append(Prediction.model_validate_json(line))
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'line'}: {e['msg']}" for e in exc.errors()[:5])
            raise RunDirError(f"{path}:{n}: not a valid prediction ({problems})") from exc
    return out


def load_manifest(run_dir: Path) -> RunManifest:
    path = Path(run_dir) / "manifest.json"
    if not path.exists():
        raise RunDirError(f"{path} does not exist: is {run_dir} a run directory written by `obench eval`?")
    try:
        return RunManifest.model_validate_json(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise RunDirError(f"{path}: not a valid run manifest: {str(exc).splitlines()[0]}") from exc


def load_paired(runs: Sequence[Path]) -> list[list[Prediction]]:
    """The predictions of several runs, paired item for item (sorted by candidate id).

    The one check behind every comparison of runs (``compare``, ``ogr``): all runs are on the
    same suite (content hash) and reviewed exactly the same candidates.

    Raises:
        RunDirError: naming the runs that differ and how to fix it.
    """
    preds = [load_predictions(r) for r in runs]
    hashes = {str(r): load_manifest(r).suite.get("content_hash") for r in runs if (Path(r) / "manifest.json").exists()}
    if len({h for h in hashes.values() if h}) > 1:
        shown = ", ".join(f"{r}: {h}" for r, h in hashes.items())
        raise RunDirError(f"the runs are on different suites ({shown}); compare runs of one suite version")
    ids = [{p.candidate_id for p in ps} for ps in preds]
    for r, got in zip(runs[1:], ids[1:]):
        if got != ids[0]:
            raise RunDirError(f"{runs[0]} and {r} reviewed different candidates ({len(ids[0])} vs {len(got)}, "
                              f"{len(ids[0] & got)} in common); re-run one with the other's --split and --limit")
    return [sorted(ps, key=lambda p: p.candidate_id) for ps in preds]


def score_predictions(predictions: Sequence[Prediction], seed: int = 0, n_boot: int = N_BOOT) -> dict[str, Estimate]:
    """Every metric of ``predictions`` with its task-clustered CI, scored in the one order runs use (by candidate id).

    The headline numbers of ``scores.json``; other front ends (the Inspect extension's metrics) call this to
    report exactly the same values.
    """
    return score([p.item() for p in sorted(predictions, key=lambda p: p.candidate_id)], n_boot=n_boot, seed=seed)


def compute_scores(predictions: list[Prediction], seed: int = 0, n_boot: int = N_BOOT) -> dict[str, Any]:
    """``scores.json`` content: every metric as ``{"value", "ci"}``, counts, breakdowns."""
    items = [p.item() for p in sorted(predictions, key=lambda p: p.candidate_id)]
    est = score_predictions(predictions, seed=seed, n_boot=n_boot)
    out: dict[str, Any] = {m: est[m].to_json() for m in METRICS}
    out.update({
        "schema_version": SCHEMA_VERSION,
        "primary": PRIMARY,
        "n_items": len(items),
        "n_buggy": sum(1 for it in items if it.buggy),
        "n_correct": sum(1 for it in items if not it.buggy),
        "n_tasks": len({it.task_id for it in items}),
        "n_abstain": sum(1 for p in predictions if p.verdict == "abstain"),
        "n_errors": sum(1 for p in predictions if p.error),
        "bootstrap": {"n": n_boot, "seed": seed, "resampled_by": "task", "level": 0.95},
        "breakdowns": {k: [g.to_json() for g in v] for k, v in breakdowns(items, n_boot=n_boot, seed=seed).items()},
    })
    return out


def _fmt(est: dict[str, Any]) -> str:
    v, (lo, hi) = est["value"], est["ci"]
    if v is None:
        return "n/a"
    return f"{v:.3f} [{lo:.3f}, {hi:.3f}]" if lo is not None and hi is not None else f"{v:.3f}"


def render(run_dir: Path, seed: int | None = None) -> dict[str, Any]:
    """(Re)write ``scores.json``, ``report.md`` and the plots from ``predictions.jsonl``; returns the scores."""
    from bench.runs import plots

    run_dir = Path(run_dir)
    predictions = load_predictions(run_dir)
    manifest = load_manifest(run_dir) if (run_dir / "manifest.json").exists() else None
    boot_seed = seed if seed is not None else (manifest.seeds.get("bootstrap", 0) if manifest else 0)
    scores = compute_scores(predictions, seed=boot_seed)
    _atomic_write(run_dir / "scores.json", json.dumps(scores, indent=2, sort_keys=True) + "\n")
    items = [p.item() for p in predictions]
    figures = plots.write_all(run_dir, items, scores)
    statuses: dict[str, int] = {}
    for p in predictions:
        if p.witness is not None:
            statuses[p.witness_status] = statuses.get(p.witness_status, 0) + 1
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATE_DIR), undefined=jinja2.StrictUndefined,
                             autoescape=False, keep_trailing_newline=True)
    env.filters["est"] = _fmt
    text = env.get_template("report.md.j2").render(
        manifest=manifest, scores=scores, metrics=METRICS, primary=PRIMARY, figures=figures,
        witness_statuses=dict(sorted(statuses.items())), buckets=[name for _, name in SUBTLETY_BUCKETS],
        examples=_examples(predictions),
    )
    _atomic_write(run_dir / "report.md", text)
    return scores


def _examples(predictions: list[Prediction], k: int = 3) -> list[dict[str, Any]]:
    """A few verified catches and a few misses of the subtlest bugs, for the report."""
    verified = [p for p in predictions if p.label == "buggy" and p.witness_status == "verified"][:k]
    missed = sorted((p for p in predictions if p.label == "buggy" and p.verdict != "buggy"), key=lambda p: p.subtlety)[:k]
    return [{"kind": "verified catch", "p": p} for p in verified] + [{"kind": "missed", "p": p} for p in missed]


__all__ = ["Prediction", "RunManifest", "RunDirError", "compute_scores", "load_manifest", "load_predictions", "render",
           "score_predictions", "subtlety_bucket", "write_manifest", "write_predictions"]
