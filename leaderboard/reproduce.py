"""Reproduce a submission: ask its reviewer again on a sample of items and require identical replies.

Validation checks that every review is what its raw reply parses to, but not the raw reply
itself: only the model can. ``obench leaderboard reproduce SUBMISSION`` re-creates the
submitted reviewer from its manifest (spec, protocol, prompt, the recorded decoding, which
must be deterministic: temperature 0), asks it about ``--sample`` candidates of the split drawn
with a seed derived from the content hash of ``predictions.jsonl``
(:func:`leaderboard.submission.reproduction_seed`, :func:`~leaderboard.submission.reproduction_ids`),
and compares every reply (raw text, verdict, p_buggy, lines, witness, explanation, protocol
turns) with the submitted one. The deterministic baselines are recomputed instead.

The outcome is written to the submission as ``reproduced.json``
(:class:`~leaderboard.submission.ReproductionRecord`); validation checks it against the
predictions, and the site marks the entry ``reproduced`` when every sampled reply matched.
"""

from __future__ import annotations

import importlib.metadata
import json
import subprocess
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from bench.models import GenerateConfig, ModelOptions
from bench.reviewing.parse import Review
from bench.reviewing.protocols import Budgets
from bench.runs.evaluate import TRANSPORT_KEYS, EvalConfig, EvalError, make_reviewer
from bench.runs.rundir import Prediction, utc_now
from leaderboard.submission import REPRODUCED, Mismatch, ReproductionRecord, reproduction_ids, reproduction_seed
from leaderboard.validate import DETERMINISTIC_BASELINES, load_submission, printable

DEFAULT_SAMPLE = 20
REPO = Path(__file__).resolve().parent.parent
COMPARED = ("raw", "verdict", "p_buggy", "lines", "witness", "explanation", "transcript")


class ReproduceError(ValueError):
    """A submission that cannot be reproduced as asked (nothing was written)."""


def code_version() -> dict[str, str | None]:
    """The reproducer's code: the package version and ``git describe`` of the checkout (None when unknown)."""
    try:
        version: str | None = importlib.metadata.version("oversightbench")
    except importlib.metadata.PackageNotFoundError:
        version = None
    git = None
    try:
        res = subprocess.run(["git", "describe", "--always", "--dirty", "--abbrev=12"], cwd=REPO, capture_output=True,
                             text=True, timeout=10)
        git = res.stdout.strip() or None if res.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        pass
    return {"oversightbench": version, "git": git}


def _flat(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """A reviewer description as ``dotted.key -> value``, without where or how the model was reached."""
    out: dict[str, Any] = {}
    for k, x in d.items():
        if k in TRANSPORT_KEYS:
            continue
        if isinstance(x, dict):
            out.update(_flat(x, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = x
    return out


def identity_differences(recorded: dict[str, Any], now: dict[str, Any]) -> list[str]:
    """What differs between the reviewer the run recorded and the one re-created (weights, prompt, versions...)."""
    a, b = _flat(recorded), _flat(json.loads(json.dumps(now)))
    return [f"{k}: recorded {printable(repr(a.get(k)), 80)}, now {printable(repr(b.get(k)), 80)}"
            for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]


def _turns(transcript: Sequence[dict[str, Any]]) -> list[list[Any]]:
    return [[t.get("role"), t.get("content")] for t in transcript]


def differences(p: Prediction, r: Review) -> list[str]:
    """The fields of :data:`COMPARED` in which the reproduced review ``r`` differs from the submitted ``p``."""
    mine = {"raw": p.raw, "verdict": p.verdict, "p_buggy": p.p_buggy, "lines": list(p.lines), "witness": p.witness,
            "explanation": p.explanation, "transcript": _turns(p.transcript)}
    again = {"raw": r.raw, "verdict": r.verdict, "p_buggy": r.p_buggy, "lines": list(r.lines), "witness": r.witness,
             "explanation": r.explanation, "transcript": _turns(r.transcript)}
    return [f for f in COMPARED if mine[f] != again[f]]


def _config(v: Any, options: ModelOptions, model_path: str | None) -> EvalConfig:
    """The evaluation the submission records, to re-create its reviewer."""
    man, view = v.manifest, v.view
    spec = view.reviewer.spec
    if model_path is not None:
        if not spec.startswith("hf:"):
            raise ReproduceError(f"--model-path is for hf: reviewers; this submission's reviewer is {spec!r}")
        spec = f"hf:{model_path}"
    dec = view.decoding
    if dec is not None and dec.temperature != 0:
        raise ReproduceError(f"the run decoded with temperature {dec.temperature}: its replies are samples and cannot "
                             "be reproduced; only temperature-0 (greedy) runs can")
    recorded = view.reviewer.model or {}
    if recorded.get("backend") == "hf":  # run where and how the weights ran, unless told otherwise
        device, dtype = recorded.get("device"), recorded.get("dtype")
        options = replace(options, device=options.device or (device if isinstance(device, str) else None),
                          dtype=options.dtype or (dtype if isinstance(dtype, str) else None))
    try:
        budgets = Budgets(**view.reviewer.budgets) if view.reviewer.budgets else Budgets()
        generate = GenerateConfig(**dec.model_dump()) if dec is not None else GenerateConfig()
    except TypeError as exc:  # recorded by another version of the code
        raise ReproduceError(f"manifest.json: the recorded budgets or decoding do not fit this code: {exc}") from exc
    kw: dict[str, Any] = {"prompt": view.prompt.name} if man.protocol == "direct" and view.prompt else {}
    return EvalConfig(reviewer=spec, protocol=man.protocol, split=man.split, seed=view.seeds.decoding,
                      generate=generate, model_options=options, budgets=budgets, native_tools=view.reviewer.native_tools,
                      strong=view.reviewer.strong.spec if view.reviewer.strong else None, **kw)


def reproduce(path: Path, sample: int = DEFAULT_SAMPLE, *, model_options: ModelOptions | None = None,
              model_path: str | None = None, sandbox: Any = None,
              suites: dict[str, Path] | None = None) -> ReproductionRecord:
    """Re-run the submission at ``path`` on ``sample`` drawn items and write ``reproduced.json``.

    Args:
        path: a submission directory.
        sample: how many of the entry's candidates (the split, or a subset entry's items) to ask again (all when
            there are fewer).
        model_options: how to reach the model (``base_url`` for ``openai:``; ``device``/``dtype`` default
            to the run's for ``hf:``).
        model_path: load an ``hf:`` model from here instead of the path the run recorded.
        sandbox: for the ``exec`` protocol (None creates a Docker sandbox when needed).
        suites: content hash -> suite directory (default: the shipped suites).

    Returns:
        The record written; ``passed`` is False when a sampled reply differs.

    Raises:
        ReproduceError: a submission that does not load, non-deterministic decoding, a reviewer that cannot
            be re-created, or requests that failed (nothing is written then).
    """
    path = Path(path)
    if sample < 1:
        raise ReproduceError(f"--sample must be at least 1, got {sample}")
    v = load_submission(path, suites)
    if not v.ok:
        shown = "; ".join(str(p) for p in v.problems[:5])
        raise ReproduceError(f"{printable(str(path))} is not a valid submission ({len(v.problems)} problem(s): {shown}); "
                             "see `obench leaderboard validate`")
    assert v.manifest is not None and v.view is not None and v.predictions_sha256 is not None
    spec, protocol = v.view.reviewer.spec, v.manifest.protocol
    seed = reproduction_seed(v.predictions_sha256)
    suite = v.suite
    ids = reproduction_ids(suite, v.manifest.split, v.manifest.limit, seed, sample)
    cfg = _config(v, model_options or ModelOptions(), model_path)
    own = sandbox is None and protocol == "exec"
    if own:
        from harness.jobs import Limits
        from harness.sandbox import SandboxError, create_sandbox

        try:
            sandbox = create_sandbox("docker", limits=Limits(timeout_s=30.0, memory_mb=512), workers=2)
        except SandboxError as exc:
            raise ReproduceError(f"the exec protocol runs candidates in the sandbox: {exc}") from exc
    try:
        try:
            reviewer = make_reviewer(cfg, suite, sandbox)
        except EvalError as exc:
            raise ReproduceError(f"cannot re-create the reviewer {spec!r}: {exc}") from exc
        from bench.reviewing.reviewers import ReviewRequest

        code = {c.candidate_id: c for c in suite.candidates}
        requests = [ReviewRequest(cid, code[cid].task_id, suite.tasks[code[cid].task_id].prompt,
                                  suite.tasks[code[cid].task_id].entry_point, code[cid].code) for cid in ids]
        reviews = reviewer.review(requests)
        described = reviewer.describe()
    finally:
        if own:
            sandbox.close()
    failed = [(cid, r.error) for cid, r in zip(ids, reviews) if r.error is not None]
    if failed:
        raise ReproduceError(f"{len(failed)} of {len(ids)} requests failed ({', '.join(c for c, _ in failed[:8])}; "
                             f"first error: {printable(str(failed[0][1]), 300)}): check --base-url and the model, then "
                             "run reproduce again; nothing was written")
    submitted = {p.candidate_id: p for _, p in v.rows}
    matches, mismatches = [], []
    for cid, r in zip(ids, reviews):
        diff = differences(submitted[cid], r)
        if diff:
            mismatches.append(Mismatch(candidate_id=cid, fields=diff))
        else:
            matches.append(cid)
    record = ReproductionRecord(
        predictions_sha256=v.predictions_sha256, seed=seed, sample_size=sample, sample=ids,
        method="recomputed" if spec.split(":", 1)[0] in DETERMINISTIC_BASELINES else "regenerated",
        reviewer=spec, protocol=protocol, decoding=v.manifest.decoding, reproduced_at=utc_now(),
        code_version=code_version(), identity_differences=identity_differences(v.manifest.reviewer, described),
        matches=matches, mismatches=mismatches, passed=not mismatches)
    tmp = path / f".{REPRODUCED}.tmp"
    tmp.write_text(json.dumps(record.model_dump(mode="json"), indent=2, sort_keys=True) + "\n", encoding="utf-8")
    tmp.replace(path / REPRODUCED)
    return record
