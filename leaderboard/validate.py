"""Validate a submission: nothing it claims is trusted.

Checks, each problem reported with where it is (file, line, field) and how to fix it:

1. exactly ``metadata.json``, ``manifest.json`` and ``predictions.jsonl``, each
   well-formed against its schema (one message per bad field or line);
2. metadata agrees with the manifest; the run is leaderboard-eligible (not the
   ``oracle``), on the full test split;
3. the suite version and content hash are a known suite's;
4. every candidate id of the split present exactly once, no unknown ids, and the
   candidate facts (label, task, operator, subtlety, changed lines) equal the suite's;
5. every review is what its raw model reply parses to (or, for the deterministic
   built-in baselines, what the baseline computes again);
6. every witness is re-executed in the harness and its recorded status must match;
7. every score is recomputed from the predictions; claims that differ are rejected.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from bench.metrics.scoring import METRICS
from bench.reviewing.parse import parse_review
from bench.runs.rundir import N_BOOT, Prediction, RunManifest, compute_scores
from leaderboard.submission import FILES, SubmissionMetadata

DETERMINISTIC_BASELINES = ("random", "always-buggy", "lint")
FACT_FIELDS = ("task_id", "label", "origin", "operator", "family", "subtlety", "changed_lines")
MAX_LISTED = 8


@dataclass(frozen=True)
class Problem:
    """One reason a submission is invalid."""

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


@dataclass
class Validation:
    """The outcome: problems (empty when valid) and what was recomputed."""

    path: Path
    problems: list[Problem] = field(default_factory=list)
    metadata: SubmissionMetadata | None = None
    manifest: RunManifest | None = None
    predictions: list[Prediction] = field(default_factory=list)
    scores: dict[str, Any] | None = None
    witnesses_rerun: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, where: str, message: str) -> None:
        self.problems.append(Problem(where, message))


def _pydantic_problems(v: Validation, where: str, exc: ValidationError) -> None:
    for e in exc.errors():
        loc = ".".join(str(x) for x in e["loc"])
        v.add(f"{where}{': ' + loc if loc else ''}", e["msg"])


def _read_json_model(v: Validation, path: Path, model: Any) -> Any:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        v.add(path.name, f"not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})")
        return None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        _pydantic_problems(v, path.name, exc)
        return None


def _read_predictions(v: Validation, path: Path) -> list[tuple[int, Prediction]]:
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            v.add(f"predictions.jsonl:{n}", f"not valid JSON ({exc.msg} at column {exc.colno})")
            continue
        try:
            rows.append((n, Prediction.model_validate(data)))
        except ValidationError as exc:
            _pydantic_problems(v, f"predictions.jsonl:{n}", exc)
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
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


def validate_submission(path: Path, sandbox: Any = None, suites: dict[str, Path] | None = None,
                        n_boot: int = N_BOOT) -> Validation:
    """Validate the submission directory ``path``.

    Args:
        path: ``leaderboard/submissions/<name>``.
        sandbox: where witnesses are re-executed; None creates a Docker sandbox when needed.
        suites: content hash -> suite directory (default: :func:`known_suites`).
        n_boot: bootstrap draws for the recomputed scores (must match the run's).
    """
    path = Path(path)
    v = Validation(path)
    if not path.is_dir():
        v.add(str(path), "not a directory; a submission is leaderboard/submissions/<name>/ made by `obench submit`")
        return v
    present = {p.name for p in path.iterdir()}
    for name in FILES:
        if name not in present:
            v.add(name, "missing; re-create the submission with `obench submit RUN_DIR --name NAME`")
    for name in sorted(present - set(FILES)):
        v.add(name, f"unexpected file; a submission holds exactly {', '.join(FILES)}")
    if any(name not in present for name in FILES):
        return v
    v.metadata = _read_json_model(v, path / "metadata.json", SubmissionMetadata)
    v.manifest = _read_json_model(v, path / "manifest.json", RunManifest)
    rows = _read_predictions(v, path / "predictions.jsonl")
    if v.metadata is None or v.manifest is None or v.problems:
        return v
    meta, man = v.metadata, v.manifest
    _check_metadata(v, meta, man, path)
    if not man.leaderboard_eligible or man.reviewer.get("spec") == "oracle":
        return v
    suite_dir = (suites if suites is not None else known_suites()).get(man.suite.get("content_hash", ""))
    if suite_dir is None:
        v.add("manifest.json: suite.content_hash", f"{man.suite.get('content_hash')!r} is not a known suite "
              f"(known: {', '.join(sorted(suites or known_suites()))}); evaluate on a released suite")
        return v
    from tasks.suite import load_suite

    suite = load_suite(suite_dir)
    if man.suite.get("version") != suite.manifest.version:
        v.add("manifest.json: suite.version", f"{man.suite.get('version')!r} but content hash "
              f"{suite.manifest.content_hash} is version {suite.manifest.version!r}")
    if not _check_ids(v, rows, suite, man.split):
        return v
    _check_reviews(v, rows, suite, man)
    v.predictions = [p for _, p in sorted(rows, key=lambda r: r[1].candidate_id)]
    _rerun_witnesses(v, rows, suite, sandbox)
    if v.problems:
        return v
    v.scores = compute_scores(v.predictions, seed=man.seeds.get("bootstrap", 0), n_boot=n_boot)
    for m in METRICS:
        claim, real = meta.claimed.get(m), v.scores[m]
        if claim is None:
            v.add(f"metadata.json: claimed.{m}", "missing; re-create the submission with `obench submit`")
            continue
        cv, cci = claim.get("value"), claim.get("ci") or [None, None]
        if not (_same(cv, real["value"]) and all(_same(a, b) for a, b in zip(cci, real["ci"]))):
            v.add(f"metadata.json: claimed.{m}",
                  f"claims {_show(cv)} {_show_ci(cci)} but the predictions give {_show(real['value'])} "
                  f"{_show_ci(real['ci'])}: the claimed scores were edited; re-submit from the run")
    return v


def _show(x: Any) -> str:
    return "n/a" if x is None else f"{x:.4f}" if isinstance(x, (int, float)) else repr(x)


def _show_ci(ci: Sequence[Any]) -> str:
    return "[" + ", ".join(_show(x) for x in ci) + "]"


def _check_metadata(v: Validation, meta: SubmissionMetadata, man: RunManifest, path: Path) -> None:
    if meta.name != path.name:
        v.add("metadata.json: name", f"{meta.name!r} but the directory is {path.name!r}; they must be the same")
    pairs = {"reviewer": (meta.reviewer, man.reviewer.get("spec")), "protocol": (meta.protocol, man.protocol),
             "split": (meta.split, man.split), "suite_content_hash": (meta.suite_content_hash,
                                                                      man.suite.get("content_hash")),
             "suite_version": (meta.suite_version, man.suite.get("version")), "n_items": (meta.n_items, man.n_items)}
    for key, (a, b) in pairs.items():
        if a != b:
            v.add(f"metadata.json: {key}", f"{a!r} but manifest.json says {b!r}")
    if not man.leaderboard_eligible or man.reviewer.get("spec") == "oracle":
        v.add("manifest.json: reviewer", "the oracle reads the hidden tests: it is a ceiling, not a leaderboard entry")
    if man.split != "test" or man.limit:
        v.add("manifest.json: split", f"the leaderboard ranks full test-split runs; this run is split {man.split!r}"
              + (f" with --limit {man.limit}" if man.limit else "") + "; run `obench eval --split test` without --limit")
    if man.status != "complete":
        v.add("manifest.json: status", f"{man.status!r}: the run did not finish; re-run its command, then submit")


def _check_ids(v: Validation, rows: list[tuple[int, Prediction]], suite: Any, split: str) -> bool:
    expected = {c.candidate_id: c for c in suite.split(split)}
    lines: dict[str, list[int]] = {}
    for n, p in rows:
        lines.setdefault(p.candidate_id, []).append(n)
    dupes = [f"{cid} (lines {', '.join(map(str, ns))})" for cid, ns in lines.items() if len(ns) > 1]
    unknown = [f"{cid} (line {ns[0]})" for cid, ns in lines.items() if cid not in expected]
    missing = sorted(set(expected) - set(lines))
    if dupes:
        v.add("predictions.jsonl", f"{len(dupes)} candidate id(s) appear more than once: {_listed(dupes)}")
    if unknown:
        v.add("predictions.jsonl", f"{len(unknown)} candidate id(s) are not in the {split} split: {_listed(unknown)}")
    if missing:
        v.add("predictions.jsonl", f"{len(missing)} candidate id(s) of the {split} split are missing: {_listed(missing)}")
    if dupes or unknown or missing:
        return False
    for n, p in rows:
        c = expected[p.candidate_id]
        for f in FACT_FIELDS:
            mine, real = getattr(p, f), getattr(c, f)
            if (list(mine) if isinstance(mine, (list, tuple)) else mine) != (list(real) if isinstance(real, (list, tuple)) else real):
                v.add(f"predictions.jsonl:{n}: {f}", f"{mine!r} but the suite says {real!r} for {p.candidate_id}: "
                      "candidate facts come from the suite and cannot be edited")
    return True


def _check_reviews(v: Validation, rows: list[tuple[int, Prediction]], suite: Any, man: RunManifest) -> None:
    spec = str(man.reviewer.get("spec", ""))
    if spec.split(":", 1)[0] in DETERMINISTIC_BASELINES:
        from bench.reviewing.reviewers import ReviewRequest, create_reviewer

        code = {c.candidate_id: c.code for c in suite.candidates}
        reqs = [ReviewRequest(p.candidate_id, p.task_id, suite.tasks[p.task_id].prompt, suite.tasks[p.task_id].entry_point,
                              code[p.candidate_id]) for _, p in rows]
        again = create_reviewer(spec).review(reqs)
        for (n, p), r in zip(rows, again):
            _compare_review(v, n, p, r.verdict, r.p_buggy, list(r.lines), r.witness, f"what `{spec}` computes")
        return
    for n, p in rows:
        if p.error is not None:
            if p.verdict != "abstain" or p.p_buggy != 0.5 or p.witness is not None:
                v.add(f"predictions.jsonl:{n}", f"{p.candidate_id}: a failed request must be an abstain with "
                      "p_buggy 0.5 and no witness")
            continue
        r = parse_review(p.raw)
        _compare_review(v, n, p, r.verdict, r.p_buggy, list(r.lines), r.witness, "what its raw reply parses to")


def _compare_review(v: Validation, n: int, p: Prediction, verdict: str, p_buggy: float, lines: list[int],
                    witness: str | None, source: str) -> None:
    """One problem per edited review for the first few, then a single count."""
    diffs = []
    if p.verdict != verdict:
        diffs.append(f"verdict {p.verdict!r} vs {verdict!r}")
    if not _same(p.p_buggy, p_buggy):
        diffs.append(f"p_buggy {p.p_buggy} vs {p_buggy}")
    if list(p.lines) != lines:
        diffs.append(f"lines {p.lines} vs {lines}")
    if p.witness != witness:
        diffs.append(f"witness {p.witness!r} vs {witness!r}")
    if not diffs:
        return
    edited = [q for q in v.problems if q.message.startswith("review edited")]
    if len(edited) < MAX_LISTED:
        v.add(f"predictions.jsonl:{n}", f"review edited: {p.candidate_id}: the review is not {source} ({'; '.join(diffs)})")
    elif len(edited) == MAX_LISTED:
        v.add("predictions.jsonl", "review edited: more reviews differ from what their source gives (listing stops here)")


def _rerun_witnesses(v: Validation, rows: list[tuple[int, Prediction]], suite: Any, sandbox: Any) -> None:
    from bench.reviewing.verify import verify_witnesses

    with_witness = [(n, p) for n, p in rows if p.witness]
    for n, p in rows:
        if not p.witness and p.witness_status != "none":
            v.add(f"predictions.jsonl:{n}: witness_status", f"{p.candidate_id}: {p.witness_status!r} without a witness")
    if not with_witness:
        return
    own = sandbox is None
    if own:
        from harness.jobs import Limits
        from harness.sandbox import create_sandbox

        sandbox = create_sandbox("docker", limits=Limits(timeout_s=30.0, memory_mb=512), workers=2)
    try:
        code = {c.candidate_id: c.code for c in suite.candidates}
        labels = {c.candidate_id: c.label for c in suite.candidates}
        checks = verify_witnesses(sandbox, suite, [(p.task_id, code[p.candidate_id], p.witness) for _, p in with_witness],
                                  labels=[labels[p.candidate_id] for _, p in with_witness])
    finally:
        if own:
            sandbox.close()
    v.witnesses_rerun = len(with_witness)
    fixed = {}
    for (n, p), chk in zip(with_witness, checks):
        if chk.status == "infra":
            v.add(f"predictions.jsonl:{n}", f"{p.candidate_id}: the witness could not be re-executed (sandbox "
                  "infrastructure failure); validate again")
        elif chk.status != p.witness_status:
            v.add(f"predictions.jsonl:{n}: witness_status", f"{p.candidate_id}: recorded {p.witness_status!r} but "
                  f"re-executing the witness {p.witness!r} shows {chk.status!r} ({chk.detail})")
        fixed[p.candidate_id] = chk
    v.predictions = [p.model_copy(update={"witness_status": fixed[p.candidate_id].status}) if p.candidate_id in fixed
                     else p for p in v.predictions]
