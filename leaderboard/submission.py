"""Submissions: a run's predictions and manifest plus who submitted it.

A submission directory holds the files :data:`FILES` (required) and, once a maintainer
re-ran a sample of it, :data:`OPTIONAL_FILES`:

- ``metadata.json`` (:class:`SubmissionMetadata`): who, links, and the scores the run
  reported at submission time (``claimed``); validation recomputes them and rejects a
  submission whose claims its predictions do not support;
- ``manifest.json`` (:class:`bench.runs.rundir.RunManifest`, and :class:`ManifestView` for
  the fields the leaderboard reads) and ``predictions.jsonl``, copied from the run;
- ``reproduced.json`` (:class:`ReproductionRecord`), written by ``obench leaderboard
  reproduce``: the outcome of re-running the reviewer on a sample of items drawn by
  :func:`reproduction_sample` with the seed :func:`reproduction_seed` of the predictions.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import random
import re
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bench.metrics.scoring import METRICS
from bench.runs.rundir import RunDirError, load_manifest, load_predictions

SCHEMA_VERSION = 1
FILES = ("metadata.json", "manifest.json", "predictions.jsonl")
REPRODUCED = "reproduced.json"
OPTIONAL_FILES = (REPRODUCED,)
SUBMISSIONS_DIR = Path(__file__).resolve().parent / "submissions"
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
MAX_TEXT = 200


class Claim(BaseModel):
    """One claimed metric, as the run's ``scores.json`` holds it."""

    model_config = ConfigDict(extra="forbid")
    value: float | None
    ci: list[float | None] = Field(min_length=2, max_length=2, description="95% CI [low, high]")


class SubmissionMetadata(BaseModel):
    """Who submitted what, and the scores the run reported."""

    model_config = ConfigDict(extra="forbid")
    schema_version: Literal[1] = 1
    name: str = Field(description="entry name, also its directory: letters, digits, . _ -")
    org: str = Field(default="", max_length=MAX_TEXT)
    paper: str | None = Field(default=None, max_length=2000, description="http(s) URL of a paper or model card")
    open_weights: bool | None = None
    submitted_at: str = Field(description="ISO date, YYYY-MM-DD")
    reviewer: str = Field(max_length=2000)
    protocol: str = Field(max_length=MAX_TEXT)
    split: str = Field(max_length=MAX_TEXT)
    suite_name: str = Field(max_length=MAX_TEXT)
    suite_version: str = Field(max_length=MAX_TEXT)
    suite_content_hash: str = Field(max_length=MAX_TEXT)
    n_items: int
    claimed: dict[str, Claim] = Field(description="scores.json of the run at submission: metric -> {value, ci}")
    ogr_strong: str | None = Field(default=None, max_length=2000, description=(
        "for a protocol without a strong model of its own (exec): the reviewer spec whose direct entry is the "
        "strong reference of this entry's OGR on the protocol view"))

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not NAME_RE.match(v):
            raise ValueError("use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit")
        return v

    @field_validator("paper")
    @classmethod
    def _paper(cls, v: str | None) -> str | None:
        if v and not re.match(r"^https?://\S+$", v):
            raise ValueError("must be an http(s) URL")
        return v or None

    @field_validator("submitted_at")
    @classmethod
    def _date(cls, v: str) -> str:
        try:
            _dt.date.fromisoformat(v)
        except ValueError:
            raise ValueError("must be an ISO date (YYYY-MM-DD)") from None
        return v


class _Open(BaseModel):
    """A manifest part of which the leaderboard reads a few typed fields (the rest is kept as is)."""

    model_config = ConfigDict(extra="allow")


class SuiteRef(_Open):
    name: str
    version: str
    content_hash: str


class StrongRef(_Open):
    spec: str
    model: dict[str, Any] = Field(default_factory=dict)


class ReviewerRef(_Open):
    spec: str = Field(max_length=2000)
    model: dict[str, Any] | None = None
    strong: StrongRef | None = None
    budgets: dict[str, int] | None = None
    native_tools: bool = False


class PromptRef(_Open):
    name: str
    sha256: str


class HarnessRef(_Open):
    image_tag: str | None = None
    image_digest: str | None = None


class Decoding(_Open):
    """The decoding a model run recorded (``bench.models.GenerateConfig``); empty for the baselines."""

    max_new_tokens: int = Field(default=512, ge=1)
    temperature: float = Field(default=0.0, ge=0.0)
    top_p: float = Field(default=1.0, ge=0.0, le=1.0)
    seed: int = 0


class Seeds(_Open):
    seed: int = Field(ge=0)
    bootstrap: int = Field(ge=0)
    decoding: int = Field(ge=0)


class ManifestView(_Open):
    """The fields of ``manifest.json`` the leaderboard reads, typed (validated on top of ``RunManifest``)."""

    suite: SuiteRef
    reviewer: ReviewerRef
    prompt: PromptRef | None = None
    harness: HarnessRef
    decoding: Decoding | None = Field(description="None for the baselines (their manifests record {})")
    seeds: Seeds

    @field_validator("decoding", mode="before")
    @classmethod
    def _decoding(cls, v: Any) -> Any:
        return v or None


class Mismatch(BaseModel):
    """A sampled item whose reproduced review differs from the submitted one."""

    model_config = ConfigDict(extra="forbid")
    candidate_id: str
    fields: list[str] = Field(min_length=1, description="what differs: raw, verdict, p_buggy, lines, witness...")


class ReproductionRecord(BaseModel):
    """``reproduced.json``: the outcome of ``obench leaderboard reproduce`` on this submission."""

    model_config = ConfigDict(extra="forbid")
    schema_version: Literal[1] = 1
    predictions_sha256: str = Field(description="sha256 of predictions.jsonl (hex) when it was reproduced")
    seed: int = Field(description="reproduction_seed(predictions_sha256)")
    sample_size: int = Field(ge=1, description="items asked for (--sample)")
    sample: list[str] = Field(description="the drawn candidate ids, sorted")
    method: Literal["recomputed", "regenerated"] = Field(
        description="recomputed: a deterministic baseline computed again; regenerated: the model asked again")
    reviewer: str
    protocol: str
    decoding: dict[str, Any]
    reproduced_at: str = Field(description="UTC time, ISO 8601")
    code_version: dict[str, str | None] = Field(description="oversightbench version and git describe of the reproducer")
    identity_differences: list[str] = Field(default_factory=list, description="reviewer identity, recorded vs now")
    matches: list[str]
    mismatches: list[Mismatch]
    passed: bool


def content_sha256(data: bytes) -> str:
    """The content hash of a ``predictions.jsonl`` (hex sha256 of its bytes)."""
    return hashlib.sha256(data).hexdigest()


def reproduction_seed(predictions_sha256: str) -> int:
    """The sampling seed of a reproduction: the first 64 bits of the predictions' content hash."""
    return int(predictions_sha256[:16], 16)


def reproduction_sample(seed: int, candidate_ids: Sequence[str], n: int) -> list[str]:
    """``n`` of ``candidate_ids`` (all when fewer) drawn with ``seed``, sorted: the one sampling rule."""
    ids = sorted(set(candidate_ids))
    return sorted(random.Random(seed).sample(ids, min(n, len(ids))))


def reproduction_ids(suite: Any, split: str, limit: int, seed: int, n: int) -> list[str]:
    """The candidates a reproduction asks again: :func:`reproduction_sample` of the entry's own items (the whole
    split, or a subset entry's first ``limit`` in the eval's order, :func:`bench.runs.select_items`). The one
    draw: ``leaderboard reproduce`` asks these, and validation checks a ``reproduced.json`` against them."""
    from bench.runs import select_items

    return reproduction_sample(seed, [c.candidate_id for c in select_items(suite, split, limit)], n)


class SubmitError(ValueError):
    """A run that cannot be submitted as asked."""


def submit(run_dir: Path, name: str, *, org: str = "", paper: str | None = None, open_weights: bool | None = None,
           root: Path = SUBMISSIONS_DIR, force: bool = False, ogr_strong: str | None = None) -> Path:
    """Copy a run into ``root/<name>/`` with its metadata; returns the submission directory.

    ``ogr_strong`` names the strong reference of a protocol entry that has no strong model of its own (exec):
    the protocol view computes its OGR against that reviewer's direct entry.

    Raises:
        SubmitError: bad name or URL, a run that is not complete, an ``ogr_strong`` on a direct run or on a
            protocol that has its own strong model, or an existing entry (without ``force``).
    """
    run_dir = Path(run_dir)
    try:
        manifest = load_manifest(run_dir)
        load_predictions(run_dir)
    except RunDirError as exc:
        raise SubmitError(str(exc)) from exc
    if manifest.status != "complete":
        raise SubmitError(f"{run_dir} is {manifest.status!r}, not complete: re-run the same `obench eval` command "
                          "until it finishes, then submit")
    scores_path = run_dir / "scores.json"
    if not scores_path.exists():
        raise SubmitError(f"{scores_path} is missing: run `obench report {run_dir}` first")
    scores = json.loads(scores_path.read_text())
    if ogr_strong is not None and (manifest.protocol == "direct" or (manifest.reviewer.get("strong") or {})):
        raise SubmitError(f"--ogr-strong is for a protocol without a strong model of its own (exec); this run is "
                          f"{manifest.protocol}" + (" with its own strong model" if manifest.protocol != "direct" else ""))
    try:
        meta = SubmissionMetadata(
            name=name, org=org, paper=paper, open_weights=open_weights,
            submitted_at=_dt.datetime.now(_dt.UTC).date().isoformat(), reviewer=manifest.reviewer.get("spec", ""),
            protocol=manifest.protocol, split=manifest.split, suite_name=manifest.suite.get("name", ""),
            suite_version=manifest.suite.get("version", ""), suite_content_hash=manifest.suite.get("content_hash", ""),
            n_items=manifest.n_items, claimed={m: scores[m] for m in METRICS if m in scores}, ogr_strong=ogr_strong,
        )
    except ValueError as exc:
        raise SubmitError(f"bad submission metadata: {exc}") from exc
    dest = Path(root) / name
    if dest.exists() and not force:
        raise SubmitError(f"{dest} already exists: choose another --name, or pass --force to replace it")
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    shutil.copyfile(run_dir / "manifest.json", dest / "manifest.json")
    shutil.copyfile(run_dir / "predictions.jsonl", dest / "predictions.jsonl")
    (dest / "metadata.json").write_text(json.dumps(meta.model_dump(mode="json"), indent=2, sort_keys=True) + "\n")
    return dest
