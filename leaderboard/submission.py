"""Submissions: a run's predictions and manifest plus who submitted it.

``metadata.json`` (:class:`SubmissionMetadata`) also carries the scores the run
reported at submission time (``claimed``); validation recomputes them and rejects a
submission whose claims its predictions do not support.
"""

from __future__ import annotations

import datetime as _dt
import json
import re
import shutil
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bench.metrics.scoring import METRICS
from bench.runs.rundir import RunDirError, load_manifest, load_predictions

SCHEMA_VERSION = 1
FILES = ("metadata.json", "manifest.json", "predictions.jsonl")
SUBMISSIONS_DIR = Path(__file__).resolve().parent / "submissions"
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


class SubmissionMetadata(BaseModel):
    """Who submitted what, and the scores the run reported."""

    model_config = ConfigDict(extra="forbid")
    schema_version: int = SCHEMA_VERSION
    name: str = Field(description="entry name, also its directory: letters, digits, . _ -")
    org: str = ""
    paper: str | None = Field(default=None, description="http(s) URL of a paper or model card")
    open_weights: bool | None = None
    submitted_at: str
    reviewer: str
    protocol: str
    split: str
    suite_name: str
    suite_version: str
    suite_content_hash: str
    n_items: int
    claimed: dict[str, dict[str, Any]] = Field(description="scores.json of the run at submission: metric -> {value, ci}")

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


class SubmitError(ValueError):
    """A run that cannot be submitted as asked."""


def submit(run_dir: Path, name: str, *, org: str = "", paper: str | None = None, open_weights: bool | None = None,
           root: Path = SUBMISSIONS_DIR, force: bool = False) -> Path:
    """Copy a run into ``root/<name>/`` with its metadata; returns the submission directory.

    Raises:
        SubmitError: bad name or URL, a run that is not complete, or an existing entry (without ``force``).
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
    try:
        meta = SubmissionMetadata(
            name=name, org=org, paper=paper, open_weights=open_weights,
            submitted_at=_dt.datetime.now(_dt.UTC).date().isoformat(), reviewer=manifest.reviewer.get("spec", ""),
            protocol=manifest.protocol, split=manifest.split, suite_name=manifest.suite.get("name", ""),
            suite_version=manifest.suite.get("version", ""), suite_content_hash=manifest.suite.get("content_hash", ""),
            n_items=manifest.n_items, claimed={m: scores[m] for m in METRICS if m in scores},
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
    (dest / "metadata.json").write_text(json.dumps(meta.model_dump(), indent=2, sort_keys=True) + "\n")
    return dest
