"""``obench import-inspect LOG``: an Inspect log of ``oversightbench/review`` or ``oversightbench/exec`` as a run directory.

The run directory is the one ``obench eval`` writes (``manifest.json``, ``predictions.jsonl``,
``scores.json``, ``report.md``, plots), so ``obench report``, ``compare``, ``submit`` and
``leaderboard validate`` take it like any other run:

- the reviewer is ``inspect:<model>`` described exactly as ``obench eval --reviewer inspect:<model>``
  would describe it (same prompt hash, decoding, budgets), plus where it came from
  (``reviewer.model.inspect_log``: the log, eval and run ids, Inspect version, model arguments, base URL,
  the full generate config), which is not part of its fingerprint;
- the candidates are the split's (first ``limit`` in hash order, ``-T limit`` or Inspect's
  ``--limit``); their facts come from the suite, never from the log;
- each review is what the sample's raw reply parses to (``direct``) or the protocol's finished review
  (``exec``); its witness status is the one the scorer found in the Docker harness, or, where the log
  has none (``--no-score``, an infrastructure failure), found again here;
- a sample that is missing or failed (its request failed after Inspect's retries) is a failed review,
  so the run is ``incomplete`` until ``inspect eval-retry`` finishes it and it is imported again.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

from bench.models import GenerateConfig, ModelOptions
from bench.prompts import UnknownPrompt, load_prompt
from bench.reviewing.parse import Review
from bench.reviewing.protocols import Budgets
from bench.reviewing.verify import WitnessCheck, gold_self_check, verify_witnesses
from bench.runs.evaluate import (
    EvalConfig,
    EvalError,
    default_out,
    host_info,
    make_prediction,
    make_reviewer,
    manifest_prompt,
    package_versions,
    reviewer_fingerprint,
    run_summary,
    select_items,
)
from bench.runs.rundir import (
    RunDirError,
    RunManifest,
    load_manifest,
    preflight,
    render,
    write_manifest,
    write_predictions,
)
from bench.runs.store import digest
from oversightbench.evals import METADATA_KEY
from oversightbench.model import spec_for
from oversightbench.scoring import REVIEW_KEY, review_from_output
from tasks.suite import SuiteError, load_suite

TASKS = {"oversightbench/review": "direct", "oversightbench/exec": "exec"}


class InspectImportError(ValueError):
    """A log that cannot become a run directory (with what to do)."""


class _NoSandbox:
    """Stands in for a sandbox where a reviewer is only described, never run."""

    name = "none"

    def info(self) -> Any:
        raise RuntimeError("no sandbox: this reviewer is only described")

    def run_calls(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("no sandbox: this reviewer is only described")

    def run_checks(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("no sandbox: this reviewer is only described")

    def close(self) -> None:
        pass


def find_log(path: Path) -> Path:
    """``path`` itself, or the newest ``.eval`` / ``.json`` log in the directory ``path``.

    Raises:
        InspectImportError: no such file, or a directory without logs.
    """
    path = Path(path)
    if path.is_dir():
        logs = sorted((p for p in path.iterdir() if p.suffix in (".eval", ".json") and not p.name.startswith(".")),
                      key=lambda p: p.stat().st_mtime)
        if not logs:
            raise InspectImportError(f"{path} holds no Inspect log (.eval or .json); pass the log file")
        return logs[-1]
    if not path.exists():
        raise InspectImportError(f"{path} does not exist; pass an Inspect log (.eval or .json) or its directory")
    return path


def _decoding(plan_config: Any) -> GenerateConfig:
    """The decoding the run used (the task's defaults with the command line's overrides, as the log's plan holds them)."""
    d = GenerateConfig()
    return GenerateConfig(
        max_new_tokens=plan_config.max_tokens if plan_config.max_tokens is not None else d.max_new_tokens,
        temperature=plan_config.temperature if plan_config.temperature is not None else d.temperature,
        top_p=plan_config.top_p if plan_config.top_p is not None else d.top_p,
        seed=plan_config.seed if plan_config.seed is not None else d.seed)


def _command(log: Any) -> list[str]:
    """The ``inspect eval`` command that reproduces the run (task arguments and generate options as given)."""
    cmd = ["inspect", "eval", log.eval.task, "--model", log.eval.model]
    for k, v in sorted((log.eval.task_args_passed or {}).items()):
        cmd += ["-T", f"{k}={str(v).lower() if isinstance(v, bool) else v}"]
    if log.eval.model_base_url:
        cmd += ["--model-base-url", log.eval.model_base_url]
    for k, v in sorted((log.eval.model_args or {}).items()):
        cmd += ["-M", f"{k}={v}"]
    for k, v in sorted(log.eval.model_generate_config.model_dump(exclude_none=True).items()):
        if isinstance(v, (str, int, float, bool)):
            cmd += [f"--{k.replace('_', '-')}", str(v)]
    if isinstance(log.eval.config.limit, int):
        cmd += ["--limit", str(log.eval.config.limit)]
    return cmd


def _provenance(log: Any, path: Path) -> dict[str, Any]:
    """Where an imported run came from (recorded under ``reviewer.model.inspect_log``)."""
    return {"log": str(path.resolve()), "status": log.status, "eval_id": log.eval.eval_id, "run_id": log.eval.run_id,
            "task": log.eval.task, "task_version": log.eval.task_version, "task_args": log.eval.task_args,
            "created": log.eval.created, "model": log.eval.model, "model_base_url": log.eval.model_base_url,
            "model_args": log.eval.model_args, "inspect_ai": (log.eval.packages or {}).get("inspect_ai"),
            "generate_config": log.plan.config.model_dump(exclude_none=True),
            "model_generate_config": log.eval.model_generate_config.model_dump(exclude_none=True),
            "eval_config": log.eval.config.model_dump(exclude_none=True), "command": shlex.join(_command(log))}


def _limit(task_limit: int, eval_limit: Any) -> int:
    """The run's limit: ``-T limit`` and Inspect's ``--limit N`` both take a prefix of the hash order."""
    if eval_limit is None:
        return task_limit
    if not isinstance(eval_limit, int):
        raise InspectImportError(f"the run used --limit {eval_limit!r} (a range): only a prefix of the split can "
                                 "become a run; use -T limit=N or --limit N")
    return min(task_limit, eval_limit) if task_limit else eval_limit


def _witness_status(sample: Any) -> tuple[WitnessCheck | None, dict[str, Any], dict[str, Any]]:
    """The scorer's witness check of a sample, with the harness and gold check it recorded (None/{} when absent)."""
    for score in (sample.scores or {}).values():
        meta = score.metadata or {}
        pred = meta.get("prediction")
        if isinstance(pred, dict):
            chk = WitnessCheck(pred.get("witness_status", "none"), pred.get("witness_detail", ""))
            return chk, meta.get("harness") or {}, meta.get("gold_check") or {}
    return None, {}, {}


def import_log(log_path: Path, out: Path | None = None, *, sandbox: Any = None,
               root: Path = Path("runs")) -> tuple[Path, dict[str, Any]]:
    """Write the run directory of an Inspect log; returns it and its scores.

    Args:
        log_path: an Inspect log (``.eval`` or ``.json``), or a log directory (its newest log).
        out: the run directory (default: ``runs/<reviewer>__<protocol>__<split>[__limitN]__seed<N>``).
        sandbox: where witnesses the log has no check for are executed (default: a Docker sandbox, opened
            only when needed).
        root: where default run directories go.

    Raises:
        InspectImportError: not a log of an OversightBench task, several epochs, a suite or prompt that
            changed since the run, or an ``out`` holding another run.
    """
    from inspect_ai.log import read_eval_log

    path = find_log(log_path)
    try:
        log = read_eval_log(str(path))
    except Exception as exc:  # noqa: BLE001 - any unreadable file is the user's input
        raise InspectImportError(f"{path}: not a readable Inspect log ({type(exc).__name__}: {exc})") from exc
    meta = (log.eval.metadata or {}).get(METADATA_KEY)
    # a task run from its function (not by registry name) is logged without the package prefix; our own
    # metadata key and its protocol still have to match
    protocol = TASKS.get(log.eval.task) or TASKS.get(f"oversightbench/{log.eval.task}")
    if not isinstance(meta, dict) or protocol is None or meta.get("protocol") != protocol:
        raise InspectImportError(f"{path} is a log of {log.eval.task!r}, not of an OversightBench task "
                                 f"({', '.join(TASKS)})")
    if (log.eval.config.epochs or 1) != 1:
        raise InspectImportError(f"{path}: the run has {log.eval.config.epochs} epochs; a run is one review per "
                                 "candidate (run without --epochs)")
    args = log.eval.task_args or {}
    try:
        suite = load_suite(args.get("suite"))
    except SuiteError as exc:
        raise InspectImportError(f"the run's suite cannot be loaded: {exc}") from exc
    recorded_hash = meta["suite"]["content_hash"]
    if suite.manifest.content_hash != recorded_hash:
        raise InspectImportError(f"the run used suite {recorded_hash} but {suite.path} is now "
                                 f"{suite.manifest.content_hash}; import with that suite")
    split, seed = meta["split"], int(meta["seed"])
    limit = _limit(int(meta["limit"]), log.eval.config.limit)
    try:
        items = select_items(suite, split, limit)
    except EvalError as exc:
        raise InspectImportError(str(exc)) from exc

    decoding = _decoding(log.plan.config)
    prompt_name = meta["prompt"]["name"]
    if protocol == "direct":
        try:
            now = load_prompt(str(args.get("prompt") or prompt_name))
        except UnknownPrompt as exc:
            raise InspectImportError(f"the run's prompt template cannot be loaded: {exc}") from exc
        if now.sha256 != meta["prompt"]["sha256"]:
            raise InspectImportError(f"the prompt {prompt_name} changed since the run (sha256 "
                                     f"{meta['prompt']['sha256'][:12]}... then, {now.sha256[:12]}... now)")
    cfg = EvalConfig(reviewer=spec_for(log.eval.model), protocol=protocol, split=split, limit=limit, seed=seed,
                     prompt=str(args.get("prompt") or prompt_name) if protocol == "direct" else "review_direct.v1",
                     generate=decoding, model_options=ModelOptions(base_url=log.eval.model_base_url),
                     budgets=Budgets(tool_calls=int(meta.get("tool_calls", Budgets().tool_calls)),
                                     judge_max_new_tokens=decoding.max_new_tokens),
                     native_tools=bool(meta.get("native_tools", False)))
    try:
        described = make_reviewer(cfg, suite, _NoSandbox()).describe()
    except EvalError as exc:
        raise InspectImportError(f"cannot describe the reviewer {cfg.reviewer!r}: {exc}") from exc
    model = described.get("model")
    if isinstance(model, dict):
        model.update({"inspect_ai": (log.eval.packages or {}).get("inspect_ai", model.get("inspect_ai")),
                      "inspect_log": _provenance(log, path)})
    fingerprint = reviewer_fingerprint(described, protocol)
    items_sha = digest([c.candidate_id for c in items])

    out = Path(out) if out is not None else default_out(cfg, root)
    try:
        preflight(out)
    except RunDirError as exc:
        raise InspectImportError(str(exc)) from exc
    if (out / "manifest.json").exists():
        old = load_manifest(out)
        if (old.reviewer_fingerprint, old.items_sha256, old.suite.get("content_hash")) != (
                fingerprint, items_sha, suite.manifest.content_hash):
            raise InspectImportError(f"{out} holds another run ({old.reviewer.get('spec')} on {old.split}, "
                                     f"{old.n_items} items); pass another --out or delete that directory")

    samples = {str(s.id): s for s in (log.samples or []) if s.epoch == 1}
    reviews: dict[str, Review] = {}
    checks: dict[str, WitnessCheck | None] = {}
    harness: dict[str, Any] = {}
    gold: dict[str, Any] = {}
    for c in items:
        s = samples.get(c.candidate_id)
        if s is None:
            reviews[c.candidate_id] = Review.failed(f"not in the Inspect log {path.name} (status {log.status}); "
                                                    "finish the run with `inspect eval-retry` and import it again")
            continue
        if s.error is not None:
            reviews[c.candidate_id] = Review.failed(f"inspect: {s.error.message}"[:500])
            continue
        stored = (s.store or {}).get(REVIEW_KEY)
        reviews[c.candidate_id] = Review.model_validate(stored) if stored is not None else review_from_output(s.output)
        chk, h, g = _witness_status(s)
        checks[c.candidate_id] = chk if chk is not None and chk.status != "infra" else None
        harness, gold = harness or h, gold or g

    todo = [c for c in items if reviews[c.candidate_id].witness and checks.get(c.candidate_id) is None]
    own = sandbox is None and (bool(todo) or not gold)
    if own:
        from harness.jobs import Limits
        from harness.sandbox import create_sandbox

        sandbox = create_sandbox("docker", limits=Limits(timeout_s=30.0, memory_mb=512), workers=2)
    try:
        if not gold:
            info = sandbox.info()
            n = gold_self_check(sandbox, suite, [c.task_id for c in items])
            gold = {"tasks": n, "passed": True, "image": info.image_digest or f"{info.backend}:{info.python}"}
        if todo:
            found = verify_witnesses(sandbox, suite, [(c.task_id, c.code, reviews[c.candidate_id].witness) for c in todo],
                                     labels=[c.label for c in todo])
            checks.update({c.candidate_id: chk for c, chk in zip(todo, found)})
        if not harness:
            harness = sandbox.info().to_json()
    finally:
        if own:
            sandbox.close()

    predictions = [make_prediction(c, reviews[c.candidate_id], checks.get(c.candidate_id)) for c in items]
    counts, usage, status = run_summary(predictions)
    stats = log.stats
    started = str(stats.started_at or log.eval.created)
    ended = str(stats.completed_at) if stats.completed_at else None
    timings: dict[str, float] = {}
    if stats.started_at and stats.completed_at:
        from datetime import datetime

        timings["inspect_eval_s"] = round((datetime.fromisoformat(str(stats.completed_at))
                                           - datetime.fromisoformat(str(stats.started_at))).total_seconds(), 3)
    manifest = RunManifest(
        status=status, command=_command(log),
        suite={"name": suite.manifest.name, "version": suite.manifest.version,
               "content_hash": suite.manifest.content_hash, "path": str(suite.path)},
        split=split, limit=limit, n_items=len(items), items_sha256=items_sha, reviewer=described,
        reviewer_fingerprint=fingerprint, protocol=protocol, prompt=manifest_prompt(described),
        decoding=decoding.to_json(), seeds={"seed": seed, "bootstrap": seed, "decoding": seed},
        harness=harness, gold_check=gold, packages=meta.get("packages") or package_versions(),
        host=meta.get("host") or host_info(), first_started_at=str(log.eval.created), started_at=started,
        ended_at=ended, counts=counts, usage=usage, timings=timings, leaderboard_eligible=True)
    write_predictions(out, predictions)
    write_manifest(out, manifest)
    return out, render(out)
