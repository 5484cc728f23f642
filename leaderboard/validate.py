"""Validate a submission: nothing it claims is trusted, and nothing in it can crash the validator.

Checks, each problem reported with where it is (file, line, field) and how to fix it:

1. ``metadata.json``, ``manifest.json``, ``predictions.jsonl`` and optionally ``reproduced.json``,
   nothing else; each a regular file (no symlink, directory or device) of at most
   :data:`MAX_FILE_BYTES`, UTF-8, JSON within :data:`MAX_JSON_DEPTH` levels of nesting with
   finite numbers and integers of at most :data:`MAX_INT_DIGITS` digits, and valid against
   its schema (strictly: no coercion of wrong types; one message per bad field or line);
2. metadata agrees with the manifest; the run is leaderboard-eligible (not the ``oracle``),
   on the test split, whole or the one fixed subset (its first :data:`bench.runs.SUBSET_ITEMS` candidates
   in the eval's hash order, ``--limit 200``; ranked apart, see :func:`subset_size`), and
   finished: zero failed requests (:func:`check_finished`);
3. the suite version and content hash are a known suite's;
4. every candidate id of the split (or of the subset) present exactly once, no unknown ids, and the
   candidate facts (label, task, operator, subtlety, changed lines) equal the suite's;
5. every review is exactly what its raw model reply parses to (or, for the deterministic
   built-in baselines, what the baseline computes again); the scores are computed from
   these re-derived reviews and the suite's facts, never from the submitted numbers;
6. every witness is re-executed in the harness and its recorded status must match;
7. ``reproduced.json``, when present, is consistent with the predictions (same content hash,
   the sample its seed draws, every sampled item accounted for);
8. every score is recomputed; the displayed CIs use the validator's own bootstrap seed
   :data:`BOOTSTRAP_SEED`, whatever seed the run used; claims that differ from the
   recomputation (the claimed CIs at the run's recorded seed) are rejected.

A hostile submission is reported, never raised: :func:`validate_submission` turns even an
unexpected failure into a problem, so the other submissions are validated all the same.
"""

from __future__ import annotations

import json
import math
import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from bench.metrics.scoring import METRICS, score
from bench.reviewing.parse import parse_review
from bench.runs import SUBSET_ITEMS
from bench.runs.rundir import N_BOOT, Prediction, RunManifest, compute_scores
from leaderboard.submission import (
    FILES,
    OPTIONAL_FILES,
    REPRODUCED,
    ManifestView,
    ReproductionRecord,
    SubmissionMetadata,
    content_sha256,
    reproduction_ids,
    reproduction_seed,
)

DETERMINISTIC_BASELINES = ("random", "always-buggy", "lint")
FACT_FIELDS = ("task_id", "label", "origin", "operator", "family", "subtlety", "changed_lines")
REVIEW_FIELDS = ("verdict", "p_buggy", "lines", "witness")
BOOTSTRAP_SEED = 0
"""The validator's bootstrap seed for every CI it recomputes and displays (a run's own seed is not used)."""
MAX_LISTED = 8
MAX_FILE_BYTES = 64 << 20
MAX_LINES = 100_000
MAX_LINE_PROBLEMS = 20
MAX_JSON_DEPTH = 32
MAX_INT_DIGITS = 20
MAX_RAW_CHARS = 100_000
MAX_MESSAGE = 2000


def printable(text: str, limit: int = MAX_MESSAGE) -> str:
    """``text`` safe to print and write as UTF-8: no surrogates (undecodable bytes) or control characters, clipped."""
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _short(x: Any, limit: int = 80) -> str:
    """A submitted value in a message: its repr, clipped."""
    return printable(repr(x), limit)


@dataclass(frozen=True)
class Problem:
    """One reason a submission is invalid."""

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


@dataclass
class Validation:
    """The outcome: problems (empty when valid) and what was recomputed.

    ``predictions`` are the re-derived ones (reviews from the raw replies or recomputed, facts from
    the suite, witness statuses from re-execution): the only source of ``scores``.
    """

    path: Path
    problems: list[Problem] = field(default_factory=list)
    metadata: SubmissionMetadata | None = None
    manifest: RunManifest | None = None
    view: ManifestView | None = None
    rows: list[tuple[int, Prediction]] = field(default_factory=list)
    predictions_sha256: str | None = None
    suite: Any = None
    predictions: list[Prediction] = field(default_factory=list)
    reproduction: ReproductionRecord | None = None
    scores: dict[str, Any] | None = None
    witnesses_rerun: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def name(self) -> str:
        """The directory name, printable."""
        return printable(self.path.name)

    def add(self, where: str, message: str) -> None:
        self.problems.append(Problem(printable(where, 200), printable(message)))


class JSONLimitError(ValueError):
    """JSON the leaderboard refuses to read: out-of-range numbers or too deep nesting."""


def _parse_int(s: str) -> int:
    if len(s.lstrip("-")) > MAX_INT_DIGITS:
        raise JSONLimitError(f"integer {s[:12]}... ({len(s)} digits) is out of range (at most {MAX_INT_DIGITS} digits)")
    return int(s)


def _parse_float(s: str) -> float:
    x = float(s)
    if not math.isfinite(x):
        raise JSONLimitError(f"number {s[:24]} is out of range")
    return x


def _parse_constant(s: str) -> float:
    raise JSONLimitError(f"{s} is not a JSON number")


def loads(text: str) -> Any:
    """``json.loads`` within the leaderboard's limits.

    Raises:
        ValueError: not JSON (``json.JSONDecodeError``) or beyond the limits (:class:`JSONLimitError`).
    """
    try:
        data = json.loads(text, parse_int=_parse_int, parse_float=_parse_float, parse_constant=_parse_constant)
    except RecursionError:
        raise JSONLimitError(f"nested deeper than {MAX_JSON_DEPTH} levels") from None
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        x, depth = stack.pop()
        if isinstance(x, (dict, list)):
            if depth > MAX_JSON_DEPTH:
                raise JSONLimitError(f"nested deeper than {MAX_JSON_DEPTH} levels")
            stack.extend((y, depth + 1) for y in (x.values() if isinstance(x, dict) else x))
    return data


def _json_problem(exc: ValueError, line: bool = False) -> str:
    if isinstance(exc, json.JSONDecodeError):
        at = f"column {exc.colno}" if line else f"line {exc.lineno}, column {exc.colno}"
        return f"not valid JSON ({exc.msg} at {at})"
    return f"not acceptable JSON: {exc}"


def read_text(v: Validation, path: Path) -> str | None:
    """The text of a submission file, or None with a problem: a symlink, not a regular file, too large, not UTF-8."""
    name = path.name
    try:
        st = path.lstat()
    except OSError as exc:
        v.add(name, f"cannot be read ({exc.strerror or exc})")
        return None
    if stat.S_ISLNK(st.st_mode):
        v.add(name, "is a symbolic link; a submission holds regular files only (copy the file itself in)")
        return None
    if stat.S_ISDIR(st.st_mode):
        v.add(name, "is a directory, not a file; re-create the submission with `obench submit`")
        return None
    if not stat.S_ISREG(st.st_mode):
        v.add(name, "is not a regular file (a device, pipe or socket); a submission holds regular files only")
        return None
    if st.st_size > MAX_FILE_BYTES:
        v.add(name, f"is {st.st_size} bytes; a submission file may hold at most {MAX_FILE_BYTES}")
        return None
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        with os.fdopen(fd, "rb") as f:
            if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                v.add(name, "is not a regular file; a submission holds regular files only")
                return None
            data = f.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        v.add(name, f"cannot be read ({exc.strerror or exc})")
        return None
    if len(data) > MAX_FILE_BYTES:
        v.add(name, f"is more than {MAX_FILE_BYTES} bytes; a submission file may hold at most that")
        return None
    if name == "predictions.jsonl":
        v.predictions_sha256 = content_sha256(data)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        v.add(name, f"is not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}); write it as UTF-8")
        return None


def _schema_problems(where: str, exc: ValidationError, limit: int = 20) -> list[tuple[str, str]]:
    errors = exc.errors()
    out = [(f"{where}{': ' + loc if loc else ''}", e["msg"])
           for e in errors[:limit] for loc in [".".join(str(x) for x in e["loc"])]]
    return out + ([(where, f"{len(errors) - limit} more schema errors not listed")] if len(errors) > limit else [])


def _validate_model(v: Validation, where: str, data: Any, model: type[BaseModel]) -> Any:
    try:
        return model.model_validate(data, strict=True)
    except ValidationError as exc:
        for w, msg in _schema_problems(where, exc):
            v.add(w, msg)
        return None


def _read_json_model(v: Validation, path: Path, model: type[BaseModel]) -> Any:
    text = read_text(v, path)
    if text is None:
        return None
    try:
        data = loads(text)
    except ValueError as exc:
        v.add(path.name, _json_problem(exc))
        return None
    return _validate_model(v, path.name, data, model)


def _read_predictions(v: Validation, path: Path) -> list[tuple[int, Prediction]]:
    text = read_text(v, path)
    if text is None:
        return []
    lines = text.split("\n")  # not splitlines(): U+2028 and friends may occur inside a JSON string
    if len(lines) > MAX_LINES:
        v.add(path.name, f"{len(lines)} lines; a submission has one line per candidate of the split")
        return []
    rows, bad = [], 0
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"predictions.jsonl:{n}"
        try:
            rows.append((n, Prediction.model_validate(loads(line), strict=True)))
            continue
        except ValidationError as exc:
            problems = _schema_problems(where, exc)
        except ValueError as exc:
            problems = [(where, _json_problem(exc, line=True))]
        bad += 1
        if bad <= MAX_LINE_PROBLEMS:
            for w, msg in problems:
                v.add(w, msg)
    if bad > MAX_LINE_PROBLEMS:
        v.add(path.name, f"{bad - MAX_LINE_PROBLEMS} more bad lines not listed")
    return rows


def known_suites(extra: Sequence[Path] = ()) -> dict[str, Path]:
    """Content hash -> directory of every suite shipped with the package (plus ``extra``)."""
    from tasks.suite import DATA_DIR

    out = {}
    for d in [*sorted(p for p in DATA_DIR.iterdir() if p.is_dir()), *extra]:
        m = Path(d) / "manifest.json"
        if m.exists():
            out[json.loads(m.read_text())["content_hash"]] = Path(d)
    return out


def _listed(items: Sequence[str]) -> str:
    shown = ", ".join(items[:MAX_LISTED])
    return shown + (f" and {len(items) - MAX_LISTED} more" if len(items) > MAX_LISTED else "")


def _same(a: float | None, b: float | None) -> bool:
    """Claimed vs recomputed score (claims are only checked, never shown: a float tolerance is harmless)."""
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


def validate_submission(path: Path, sandbox: Any = None, suites: dict[str, Path] | None = None,
                        n_boot: int = N_BOOT) -> Validation:
    """Validate the submission directory ``path``; never raises for anything in the submission.

    Args:
        path: ``leaderboard/submissions/<name>``.
        sandbox: where witnesses are re-executed; None creates a Docker sandbox when needed.
        suites: content hash -> suite directory (default: :func:`known_suites`).
        n_boot: bootstrap draws for the recomputed scores (must match the run's).
    """
    v = Validation(Path(path))
    try:
        if _load(v, suites):
            _check(v, sandbox, n_boot)
    except Exception as exc:  # noqa: BLE001 - a submission we did not foresee is reported, never raised
        v.add(v.name, f"could not be validated ({type(exc).__name__}: {exc}); fix the submission or report this")
    return v


def load_submission(path: Path, suites: dict[str, Path] | None = None) -> Validation:
    """Checks 1-4 only (files, schemas, metadata, suite, ids): what ``reproduce`` needs before asking a model."""
    v = Validation(Path(path))
    try:
        _load(v, suites)
    except Exception as exc:  # noqa: BLE001 - as in validate_submission
        v.add(v.name, f"could not be read ({type(exc).__name__}: {exc})")
    return v


def _load(v: Validation, suites: dict[str, Path] | None) -> bool:
    """Checks 1-4; True when the rows are ready for the review checks."""
    path = v.path
    if path.is_symlink() or not path.is_dir():
        v.add(printable(str(path)), "not a directory; a submission is leaderboard/submissions/<name>/ made by "
              "`obench submit`" + (" (a symbolic link is not accepted)" if path.is_symlink() else ""))
        return False
    present = {p.name for p in path.iterdir()}
    for name in FILES:
        if name not in present:
            v.add(name, "missing; re-create the submission with `obench submit RUN_DIR --name NAME`")
    extra = sorted(present - set(FILES) - set(OPTIONAL_FILES))
    if extra:
        v.add(_listed([printable(x, 80) for x in extra]), f"unexpected file{'s' if len(extra) > 1 else ''}; a "
              f"submission holds exactly {', '.join(FILES)} (and, once reproduced, {', '.join(OPTIONAL_FILES)})")
    if any(name not in present for name in FILES):
        return False
    v.metadata = _read_json_model(v, path / "metadata.json", SubmissionMetadata)
    v.manifest = _read_json_model(v, path / "manifest.json", RunManifest)
    if v.manifest is not None:
        v.view = _validate_model(v, "manifest.json", v.manifest.model_dump(), ManifestView)
    v.rows = _read_predictions(v, path / "predictions.jsonl")
    if v.metadata is None or v.manifest is None or v.view is None or v.problems:
        return False
    meta, man, view = v.metadata, v.manifest, v.view
    _check_metadata(v, meta, man, view, path)
    check_finished(v, v.rows)
    if not man.leaderboard_eligible or view.reviewer.spec == "oracle":
        return False
    known = suites if suites is not None else known_suites()
    suite_dir = known.get(view.suite.content_hash)
    if suite_dir is None:
        v.add("manifest.json: suite.content_hash", f"{_short(view.suite.content_hash)} is not a known suite "
              f"(known: {', '.join(sorted(known))}); evaluate on a released suite")
        return False
    from tasks.suite import load_suite

    v.suite = suite = load_suite(suite_dir)
    if view.suite.version != suite.manifest.version:
        v.add("manifest.json: suite.version", f"{_short(view.suite.version)} but content hash "
              f"{suite.manifest.content_hash} is version {suite.manifest.version!r}")
    return _check_ids(v, v.rows, suite, man.split, man.limit)


def _check(v: Validation, sandbox: Any, n_boot: int) -> None:
    """Checks 5-8 on loaded rows."""
    assert v.metadata is not None and v.manifest is not None and v.view is not None
    rows, suite = v.rows, v.suite
    derived = _check_reviews(v, rows, suite, v.manifest, v.view)
    if derived is None:
        return
    facts = {c.candidate_id: {f: list(x) if isinstance(x, tuple) else x for f in FACT_FIELDS for x in [getattr(c, f)]}
             for c in suite.split(v.manifest.split)}
    v.predictions = sorted((p.model_copy(update={**facts[p.candidate_id], **derived[p.candidate_id],
                                                 "witness_status": "none", "witness_detail": ""})
                            for _, p in rows), key=lambda p: p.candidate_id)
    _rerun_witnesses(v, rows, suite, sandbox)
    if os.path.lexists(v.path / REPRODUCED):
        _check_reproduction(v, suite)
    if v.problems:
        return
    v.scores = compute_scores(v.predictions, seed=BOOTSTRAP_SEED, n_boot=n_boot)
    run_seed = v.view.seeds.bootstrap
    at_run_seed: dict[str, Any] = ({m: e.to_json() for m, e in score([p.item() for p in v.predictions], n_boot=n_boot,
                                                      seed=run_seed).items()}
                   if run_seed != BOOTSTRAP_SEED else v.scores)
    for m in METRICS:
        claim = v.metadata.claimed.get(m)
        real = at_run_seed[m]
        if claim is None:
            v.add(f"metadata.json: claimed.{m}", "missing; re-create the submission with `obench submit`")
            continue
        if not (_same(claim.value, real["value"]) and all(_same(a, b) for a, b in zip(claim.ci, real["ci"]))):
            v.add(f"metadata.json: claimed.{m}",
                  f"claims {_show(claim.value)} {_show_ci(claim.ci)} but the predictions give {_show(real['value'])} "
                  f"{_show_ci(real['ci'])}: the claimed scores were edited; re-submit from the run")


def _show(x: Any) -> str:
    return "n/a" if x is None else f"{x:.4f}" if isinstance(x, (int, float)) else _short(x)


def _show_ci(ci: Sequence[Any]) -> str:
    return "[" + ", ".join(_show(x) for x in ci) + "]"


def check_finished(v: Validation, rows: Sequence[tuple[int, Prediction]]) -> None:
    """A leaderboard entry has zero failed requests (the one rule; a ``complete`` manifest is not trusted)."""
    failed = [f"{p.candidate_id} (line {n})" for n, p in rows if p.error is not None]
    if failed:
        v.add("predictions.jsonl", f"{len(failed)} failed request(s): {_listed(failed)}. The run is not finished: "
              "re-run the same `obench eval` command (it asks only the failed items again), then "
              "`obench submit RUN_DIR --name NAME --force`")


def _check_metadata(v: Validation, meta: SubmissionMetadata, man: RunManifest, view: ManifestView, path: Path) -> None:
    if meta.name != path.name:
        v.add("metadata.json: name", f"{meta.name!r} but the directory is {_short(path.name)}; they must be the same")
    pairs = {"reviewer": (meta.reviewer, view.reviewer.spec), "protocol": (meta.protocol, man.protocol),
             "split": (meta.split, man.split), "suite_content_hash": (meta.suite_content_hash, view.suite.content_hash),
             "suite_version": (meta.suite_version, view.suite.version), "n_items": (meta.n_items, man.n_items)}
    for key, (a, b) in pairs.items():
        if a != b:
            v.add(f"metadata.json: {key}", f"{_short(a)} but manifest.json says {_short(b)}")
    if not man.leaderboard_eligible or view.reviewer.spec == "oracle":
        v.add("manifest.json: reviewer", "the oracle reads the hidden tests: it is a ceiling, not a leaderboard entry")
    if man.split != "test":
        v.add("manifest.json: split", f"the leaderboard ranks test-split runs; this run is split {_short(man.split)}; "
              "run `obench eval --split test`")
    if man.limit not in (0, SUBSET_ITEMS):
        v.add("manifest.json: limit", f"--limit {_short(man.limit)}: the leaderboard ranks the whole test split or "
              f"its one subset, the first {SUBSET_ITEMS} items; run `obench eval --split test` without --limit, or "
              f"with --limit {SUBSET_ITEMS}")
    if man.status != "complete":
        v.add("manifest.json: status", f"{_short(man.status)}: the run did not finish; re-run its command, then submit")


def subset_size(limit: int, split_size: int) -> int:
    """The subset a run with ``--limit limit`` scores, 0 for the whole split (a limit at or above its size).

    Entries are ranked within (suite, subset size): a subset is the first ``limit`` candidates of the
    split in the eval's fixed hash order (:func:`bench.runs.select_items`), so two entries of the same
    size score the very same items."""
    return limit if 0 < limit < split_size else 0


def _check_ids(v: Validation, rows: list[tuple[int, Prediction]], suite: Any, split: str, limit: int = 0) -> bool:
    from bench.runs import select_items

    try:
        expected = {c.candidate_id: c for c in select_items(suite, split, limit)}
    except ValueError as exc:
        v.add("manifest.json: split", str(exc))
        return False
    where = f"{split} split" + (f"'s first {len(expected)} in hash order (--limit {limit})" if limit else "")
    lines: dict[str, list[int]] = {}
    for n, p in rows:
        lines.setdefault(p.candidate_id, []).append(n)
    dupes = [f"{printable(cid, 80)} (lines {', '.join(map(str, ns))})" for cid, ns in lines.items() if len(ns) > 1]
    unknown = [f"{printable(cid, 80)} (line {ns[0]})" for cid, ns in lines.items() if cid not in expected]
    missing = sorted(set(expected) - set(lines))
    if dupes:
        v.add("predictions.jsonl", f"{len(dupes)} candidate id(s) appear more than once: {_listed(dupes)}")
    if unknown:
        v.add("predictions.jsonl", f"{len(unknown)} candidate id(s) are not in the {where}: {_listed(unknown)}")
    if missing:
        v.add("predictions.jsonl", f"{len(missing)} candidate id(s) of the {where} are missing: {_listed(missing)}")
    if dupes or unknown or missing:
        return False
    for n, p in rows:
        c = expected[p.candidate_id]
        for f in FACT_FIELDS:
            mine, real = getattr(p, f), getattr(c, f)
            if (list(mine) if isinstance(mine, (list, tuple)) else mine) != (list(real) if isinstance(real, (list, tuple)) else real):
                v.add(f"predictions.jsonl:{n}: {f}", f"{_short(mine)} but the suite says {real!r} for {p.candidate_id}: "
                      "candidate facts come from the suite and cannot be edited")
    return True


def rederive(spec: str, protocol: str, rows: Sequence[Prediction], suite: Any) -> list[dict[str, Any]]:
    """The review fields of ``rows`` as validation derives them: parsed from each raw reply, or, for the
    deterministic baselines, computed again.

    Raises:
        ValueError: a baseline spec that cannot be created, or one run under another protocol than direct.
    """
    if spec.split(":", 1)[0] in DETERMINISTIC_BASELINES:
        from bench.reviewing.reviewers import ReviewRequest, create_reviewer

        if protocol != "direct":
            raise ValueError(f"the baseline {spec!r} runs only with the direct protocol, not {protocol!r}")
        code = {c.candidate_id: c.code for c in suite.candidates}
        reqs = [ReviewRequest(p.candidate_id, p.task_id, suite.tasks[p.task_id].prompt,
                              suite.tasks[p.task_id].entry_point, code[p.candidate_id]) for p in rows]
        reviews = create_reviewer(spec).review(reqs)
    else:
        reviews = [parse_review(p.raw) for p in rows]
    return [{"verdict": r.verdict, "p_buggy": r.p_buggy, "lines": list(r.lines), "witness": r.witness,
             "explanation": r.explanation, "parse_error": r.parse_error} for r in reviews]


def _check_reviews(v: Validation, rows: list[tuple[int, Prediction]], suite: Any, man: RunManifest,
                   view: ManifestView) -> dict[str, dict[str, Any]] | None:
    """Re-derive every review (check 5); returns candidate id -> re-derived fields (None: cannot be derived)."""
    from bench.models import is_model_spec

    spec = view.reviewer.spec
    baseline = spec.split(":", 1)[0] in DETERMINISTIC_BASELINES
    if not baseline and not is_model_spec(spec):
        v.add("manifest.json: reviewer.spec", f"{_short(spec)} is neither a model (hf:, openai:) nor a deterministic "
              f"baseline ({', '.join(DETERMINISTIC_BASELINES)}); its reviews cannot be checked")
        return None
    long = [(n, p) for n, p in rows if len(p.raw) > MAX_RAW_CHARS]
    for n, p in long[:MAX_LISTED]:
        v.add(f"predictions.jsonl:{n}: raw", f"{p.candidate_id}: {len(p.raw)} characters; a raw reply has at most "
              f"{MAX_RAW_CHARS}")
    if long:
        return None
    try:
        derived = rederive(spec, man.protocol, [p for _, p in rows], suite)
    except ValueError as exc:  # UnknownReviewer included
        v.add("manifest.json: reviewer.spec", f"{_short(spec)}: {exc}")
        return None
    edited = 0
    source = f"what `{spec}` computes" if baseline else "what its raw reply parses to"
    for (n, p), d in zip(rows, derived):
        diffs = [f"{f} {_short(getattr(p, f))} vs {_short(d[f])}" for f in REVIEW_FIELDS if getattr(p, f) != d[f]]
        if not diffs:
            continue
        edited += 1
        if edited <= MAX_LISTED:
            v.add(f"predictions.jsonl:{n}", f"review edited: {p.candidate_id}: the review is not {source} "
                  f"({'; '.join(diffs)})")
    if edited > MAX_LISTED:
        v.add("predictions.jsonl", f"review edited: {edited - MAX_LISTED} more reviews differ from what their source "
              "gives (listing stops here)")
    return {p.candidate_id: d for (_, p), d in zip(rows, derived)}


def _rerun_witnesses(v: Validation, rows: list[tuple[int, Prediction]], suite: Any, sandbox: Any) -> None:
    """Check 6 on the re-derived predictions; their statuses come from the re-execution alone."""
    from bench.reviewing.verify import verify_witnesses

    lines = {p.candidate_id: n for n, p in rows}
    submitted = {p.candidate_id: p for _, p in rows}
    for n, p in rows:
        if not p.witness and p.witness_status != "none":
            v.add(f"predictions.jsonl:{n}: witness_status", f"{p.candidate_id}: {_short(p.witness_status)} without a "
                  "witness")
    with_witness = [p for p in v.predictions if p.witness]
    if not with_witness:
        return
    own = sandbox is None
    if own:
        from harness.jobs import Limits
        from harness.sandbox import create_sandbox

        sandbox = create_sandbox("docker", limits=Limits(timeout_s=30.0, memory_mb=512), workers=2)
    try:
        code = {c.candidate_id: c.code for c in suite.candidates}
        checks = verify_witnesses(sandbox, suite, [(p.task_id, code[p.candidate_id], p.witness) for p in with_witness],
                                  labels=[p.label for p in with_witness])
    finally:
        if own:
            sandbox.close()
    v.witnesses_rerun = len(with_witness)
    fixed = {}
    for p, chk in zip(with_witness, checks):
        n, recorded = lines[p.candidate_id], submitted[p.candidate_id].witness_status
        if chk.status == "infra":
            v.add(f"predictions.jsonl:{n}", f"{p.candidate_id}: the witness could not be re-executed (sandbox "
                  "infrastructure failure); validate again")
        elif chk.status != recorded:
            v.add(f"predictions.jsonl:{n}: witness_status", f"{p.candidate_id}: recorded {_short(recorded)} but "
                  f"re-executing the witness {_short(p.witness)} shows {chk.status!r} ({printable(chk.detail, 200)})")
        fixed[p.candidate_id] = chk
    v.predictions = [p.model_copy(update={"witness_status": fixed[p.candidate_id].status,
                                          "witness_detail": fixed[p.candidate_id].detail})
                     if p.candidate_id in fixed else p for p in v.predictions]


def _check_reproduction(v: Validation, suite: Any) -> None:
    """Check 7: ``reproduced.json`` describes a reproduction of exactly these predictions."""
    assert v.manifest is not None and v.view is not None
    rec: ReproductionRecord | None = _read_json_model(v, v.path / REPRODUCED, ReproductionRecord)
    if rec is None:
        return
    where, again = f"{REPRODUCED}", "run `obench leaderboard reproduce` again (or delete the file)"
    if rec.predictions_sha256 != v.predictions_sha256:
        v.add(f"{where}: predictions_sha256", f"predictions.jsonl changed since it was reproduced; {again}")
        return
    if rec.seed != reproduction_seed(rec.predictions_sha256):
        v.add(f"{where}: seed", f"{rec.seed} is not the seed of the predictions' content hash; {again}")
    if rec.sample != reproduction_ids(suite, v.manifest.split, v.manifest.limit, rec.seed, rec.sample_size):
        v.add(f"{where}: sample", f"not the {rec.sample_size} items the seed draws; {again}")
    mism = [m.candidate_id for m in rec.mismatches]
    if sorted(rec.matches + mism) != rec.sample:
        v.add(f"{where}: matches", f"matches and mismatches do not account for the sample exactly once; {again}")
    if rec.passed != (not mism):
        v.add(f"{where}: passed", f"{rec.passed} but {len(mism)} sampled item(s) mismatch; {again}")
    if (rec.reviewer, rec.protocol) != (v.view.reviewer.spec, v.manifest.protocol):
        v.add(f"{where}: reviewer", f"{_short(rec.reviewer)} / {_short(rec.protocol)} but manifest.json says "
              f"{_short(v.view.reviewer.spec)} / {_short(v.manifest.protocol)}; {again}")
    baseline = v.view.reviewer.spec.split(":", 1)[0] in DETERMINISTIC_BASELINES
    if rec.method != ("recomputed" if baseline else "regenerated"):
        v.add(f"{where}: method", f"{rec.method!r} is not how `{_short(v.view.reviewer.spec)}` is reproduced; {again}")
    v.reproduction = rec
