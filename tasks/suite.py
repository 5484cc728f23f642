"""The suite on disk: files ``datasets`` reads, a manifest with a content hash, a datasheet.

Layout of a suite directory::

    tasks.jsonl                one row per task (tests as JSON text, see TaskRecord)
    candidates/train.jsonl     candidates of the train split (likewise dev, test)
    manifest.json              version, content hash, counts, statistics, build settings
    README.md                  datasheet

Load it with ``datasets``::

    from datasets import load_dataset
    ds = load_dataset("json", data_files={s: f"{d}/candidates/{s}.jsonl" for s in ("train", "dev", "test")})

or with :func:`load_suite` for typed records.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from harness import codec

SCHEMA_VERSION = 1
SPLITS = ("train", "dev", "test")
DATA_DIR = Path(__file__).resolve().parent / "data"
DEFAULT_SUITE = "oversightbench-v2"


class TaskRecord(BaseModel):
    """One task of the suite. Tests are JSON text of ``[[args, expected], ...]`` (codec-encoded)."""

    model_config = ConfigDict(extra="forbid")
    schema_version: int = SCHEMA_VERSION
    task_id: str
    split: str
    source: str
    license: str
    prompt: str
    entry_point: str
    reference: str
    contract_note: str
    unordered_output: bool
    time_limit_s: float
    visible_tests: str
    hidden_tests: str
    hidden_origin: list[str]
    docstring_disagrees: list[int] = Field(default_factory=list, description="indices of visible tests whose docstring value differs from the reference")
    notes: list[str] = Field(default_factory=list)
    kind: str = Field(default="function", description="function (call entry_point) | program (stdin -> stdout)")
    contract_spec: str = Field(default="", description="the task file's contract spec as canonical JSON text; empty: "
                                                        "HumanEval's hand-written contract, or none")
    contract_set: str = Field(default="", description="HumanEval tasks: the hand-written contract set they were built "
                                                      "with (tasks.contracts.humaneval.CONTRACT_SETS); empty: humaneval-v1")

    def visible(self) -> list[tuple[tuple[Any, ...], Any]]:
        return [(tuple(a), e) for a, e in codec.loads(self.visible_tests)]

    def hidden(self) -> list[tuple[tuple[Any, ...], Any]]:
        return [(tuple(a), e) for a, e in codec.loads(self.hidden_tests)]


class CandidateRecord(BaseModel):
    """One candidate: code under review and its execution-decided label and bug facts."""

    model_config = ConfigDict(extra="forbid")
    schema_version: int = SCHEMA_VERSION
    candidate_id: str
    task_id: str
    split: str
    code: str
    label: str
    origin: str = Field(description="reference | rewrite | mutation")
    rewrites: list[str]
    operator: str
    family: str
    changed_lines: list[int]
    witnesses: str = Field(description="JSON list of {input, expected, status, actual, error}; codec-encoded values")
    subtlety: float = Field(description="fraction of hidden inputs the candidate fails (0 for correct)")
    n_failed: int
    n_hidden: int
    base: str = Field(default="", description="suite v2: reference | alternative (what the candidate was made from)")
    note: str = Field(default="", description="suite v2: the authored rationale, and a note on a bug that one hidden "
                                              "input decides")


class SuiteManifest(BaseModel):
    """Identity and statistics of a built suite."""

    model_config = ConfigDict(extra="forbid")
    schema_version: int = SCHEMA_VERSION
    name: str
    version: str
    content_hash: str
    files: dict[str, str]
    build: dict[str, Any]
    stats: dict[str, Any]


#: TaskRecord fields added after v1; a suite none of whose tasks uses them does not write them, so
#: v1's files stay byte-identical (and load unchanged: the fields have defaults).
OPTIONAL_TASK_FIELDS = ("kind", "contract_spec", "contract_set")
#: CandidateRecord fields added after v1 (written only by a suite that uses them).
OPTIONAL_CANDIDATE_FIELDS = ("base", "note")


def _jsonl(rows: Sequence[BaseModel], exclude: set[str] | None = None) -> bytes:
    return "".join(json.dumps(r.model_dump(exclude=exclude), sort_keys=True, ensure_ascii=False) + "\n"
                   for r in rows).encode()


def _unused_optional_fields(rows: Sequence[BaseModel], model: type[BaseModel] = TaskRecord,
                            names: Sequence[str] = OPTIONAL_TASK_FIELDS) -> set[str]:
    defaults = {name: model.model_fields[name].default for name in names}
    return {name for name, d in defaults.items() if all(getattr(t, name) == d for t in rows)}


def content_hash(files: dict[str, str]) -> str:
    """Hash of the data files (name and sha256 of each), independent of the machine."""
    h = hashlib.sha256()
    for name in sorted(files):
        h.update(f"{name}\0{files[name]}\n".encode())
    return "sha256:" + h.hexdigest()


def write_suite(out: Path, tasks: list[TaskRecord], candidates: list[CandidateRecord], name: str, version: str,
                build: dict[str, Any], stats: dict[str, Any], datasheet: str) -> SuiteManifest:
    """Write the suite directory; returns its manifest (also written)."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "candidates").mkdir(exist_ok=True)
    ordered_tasks = sorted(tasks, key=lambda t: t.task_id)
    blobs: dict[str, bytes] = {"tasks.jsonl": _jsonl(list(ordered_tasks), _unused_optional_fields(ordered_tasks) or None)}
    for split in SPLITS:
        rows = sorted((c for c in candidates if c.split == split), key=lambda c: c.candidate_id)
        blobs[f"candidates/{split}.jsonl"] = _jsonl(rows, _unused_optional_fields(
            candidates, CandidateRecord, OPTIONAL_CANDIDATE_FIELDS) or None)
    files = {k: hashlib.sha256(v).hexdigest() for k, v in blobs.items()}
    for rel, data in blobs.items():
        (out / rel).write_bytes(data)
    manifest = SuiteManifest(name=name, version=version, content_hash=content_hash(files), files=files,
                             build=build, stats=stats)
    (out / "manifest.json").write_text(json.dumps(manifest.model_dump(), indent=2, sort_keys=True) + "\n")
    (out / "README.md").write_text(datasheet.replace("{content_hash}", manifest.content_hash))
    return manifest


class Suite:
    """A loaded suite: manifest, tasks by id, candidates by split."""

    def __init__(self, path: Path, manifest: SuiteManifest, tasks: dict[str, TaskRecord],
                 candidates: list[CandidateRecord]) -> None:
        self.path = path
        self.manifest = manifest
        self.tasks = tasks
        self.candidates = candidates

    def split(self, name: str) -> list[CandidateRecord]:
        if name not in SPLITS:
            raise ValueError(f"unknown split {name!r}; splits: {', '.join(SPLITS)}")
        return [c for c in self.candidates if c.split == name]


class SuiteError(ValueError):
    """A suite directory is missing, incomplete or altered."""


def suite_dir(path: str | Path | None = None) -> Path:
    """The directory of a suite given as a directory, a committed suite's name, or None (:data:`DEFAULT_SUITE`)."""
    p = Path(path) if path else DATA_DIR / DEFAULT_SUITE
    if path and not p.exists() and "/" not in str(path) and (DATA_DIR / str(path)).is_dir():
        p = DATA_DIR / str(path)  # a committed suite by name
    return p


def load_suite(path: str | Path | None = None, verify: bool = True) -> Suite:
    """Load a suite: a directory, or the name of a committed suite (default: :data:`DEFAULT_SUITE`;
    e.g. ``load_suite("oversightbench-v1")`` for suite v1).

    Raises:
        SuiteError: missing files, or (with ``verify``) files whose hash differs
            from the manifest.
    """
    p = suite_dir(path)
    mpath = p / "manifest.json"
    if not mpath.exists():
        raise SuiteError(f"no suite at {p} (no manifest.json); build one with `obench tasks build --out {p}`")
    manifest = SuiteManifest.model_validate_json(mpath.read_text())
    for rel, digest in manifest.files.items():
        f = p / rel
        if not f.exists():
            raise SuiteError(f"{f} is missing from the suite")
        if verify and hashlib.sha256(f.read_bytes()).hexdigest() != digest:
            raise SuiteError(f"{f} does not match the manifest's hash: the suite was modified; rebuild or re-download it")
    tasks = {}
    for line in (p / "tasks.jsonl").read_text().splitlines():
        t = TaskRecord.model_validate_json(line)
        tasks[t.task_id] = t
    cands = []
    for split in SPLITS:
        for line in (p / "candidates" / f"{split}.jsonl").read_text().splitlines():
            cands.append(CandidateRecord.model_validate_json(line))
    return Suite(p, manifest, tasks, cands)


def load_hf(path: str | Path | None = None) -> Any:
    """The candidates as a ``datasets.DatasetDict`` (train / dev / test); ``path`` as :func:`suite_dir`."""
    import datasets

    p = suite_dir(path)
    return datasets.load_dataset("json", data_files={s: str(p / "candidates" / f"{s}.jsonl") for s in SPLITS})


def publish(path: str | Path | None, target: str) -> str:
    """Publish a suite: to a local directory (``save_to_disk`` + manifest + datasheet), or to
    the Hugging Face hub when ``target`` is a repo id (``owner/name``) and a token is configured."""
    import datasets

    p = suite_dir(path)
    dd = load_hf(p)
    tasks = datasets.load_dataset("json", data_files={"tasks": str(p / "tasks.jsonl")})["tasks"]
    local = Path(target)
    if target.startswith((".", "/", "~")) or local.exists() or "/" not in target:
        local = local.expanduser()
        local.mkdir(parents=True, exist_ok=True)
        dd.save_to_disk(str(local / "candidates"))
        tasks.save_to_disk(str(local / "tasks"))
        shutil.copy(p / "manifest.json", local / "manifest.json")
        shutil.copy(p / "README.md", local / "README.md")
        return str(local)
    dd.push_to_hub(target)  # pragma: no cover - needs a hub and a token
    tasks.push_to_hub(target, config_name="tasks")  # pragma: no cover
    return f"hf://datasets/{target}"  # pragma: no cover
