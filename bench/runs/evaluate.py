"""``obench eval``: run a reviewer over a suite split, verify its witnesses, score, write the run directory.

The pipeline streams: reviews are recorded in the run store as they complete, and
witnesses are executed in the sandbox by a background thread while the model keeps
answering, so verification costs no wall time when the model is the bottleneck.
Re-running the same command resumes from the store and redoes nothing done.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import platform
import queue
import re
import socket
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.models import GenerateConfig, ModelOptions
from bench.prompts import DEFAULT_REVIEW_PROMPT
from bench.reviewing.parse import Review
from bench.reviewing.protocols import PROTOCOLS, Budgets, ProtocolError, create_protocol_reviewer
from bench.reviewing.reviewers import (
    Reviewer,
    ReviewerContext,
    ReviewRequest,
    create_reviewer,
    stream_reviews,
)
from bench.reviewing.verify import WitnessCheck, gold_self_check, verify_witnesses, witness_key
from bench.runs.rundir import (
    Prediction,
    RunDirError,
    RunManifest,
    load_manifest,
    preflight,
    render,
    utc_now,
    write_manifest,
    write_predictions,
)
from bench.runs.store import RunStore, digest
from harness.sandbox import Sandbox
from tasks.suite import CandidateRecord, Suite

PACKAGES = ("oversightbench", "numpy", "scipy", "scikit-learn", "pydantic", "docker", "jinja2", "matplotlib", "torch",
            "transformers", "tokenizers", "openai", "httpx", "datasets", "inspect-ai")


class EvalError(ValueError):
    """A run that cannot start as asked (with what to change)."""


@dataclass(frozen=True)
class EvalConfig:
    """One evaluation, as given on the command line.

    Attributes:
        reviewer: reviewer spec (``hf:<path>``, ``openai:<model>``, ``random``, ``lint``...).
        protocol: oversight protocol (``direct``).
        split: suite split.
        limit: only the first N candidates in hash order (0: all); a fixed, label-mixed subset.
        seed: decoding seed and bootstrap seed.
        prompt: prompt template name or path.
        generate: decoding settings (its seed is replaced by ``seed``).
        model_options: how to reach the model (concurrency, base URL...).
    """

    reviewer: str
    protocol: str = "direct"
    split: str = "test"
    limit: int = 0
    seed: int = 0
    prompt: str = DEFAULT_REVIEW_PROMPT
    generate: GenerateConfig = field(default_factory=GenerateConfig)
    model_options: ModelOptions = field(default_factory=ModelOptions)
    strong: str | None = None
    budgets: Budgets = field(default_factory=Budgets)
    native_tools: bool = False


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_")[:80] or "run"


def default_out(cfg: EvalConfig, root: Path = Path("runs")) -> Path:
    """``runs/<reviewer>__<protocol>__<split>[__limitN]__seedS``: the same command resumes the same run."""
    spec = cfg.reviewer
    if spec.startswith("hf:"):
        spec = "hf:" + Path(spec[3:]).name
    parts = [slug(spec), cfg.protocol + (f"-{slug(cfg.strong)}" if cfg.strong else ""), cfg.split] + ([f"limit{cfg.limit}"] if cfg.limit else []) + [f"seed{cfg.seed}"]
    return root / "__".join(parts)


SUBSET_ITEMS = 200
"""The benchmark's one test-split subset, for runs too slow for the whole split (multi-turn protocols on CPU):
``obench eval --limit 200``, the first 200 candidates in :func:`select_items`' hash order. The leaderboard ranks it
apart from whole-split runs; one size only, so that every subset entry is on the same items and nobody can open a
table of their own by choosing another N."""


def select_items(suite: Suite, split: str, limit: int = 0) -> list[CandidateRecord]:
    """The candidates of a split, in a fixed hash order (so ``limit`` takes a label-mixed subset)."""
    try:
        items = suite.split(split)
    except ValueError as exc:
        raise EvalError(str(exc)) from exc
    items = sorted(items, key=lambda c: hashlib.sha256(c.candidate_id.encode()).hexdigest())
    return items[:limit] if limit > 0 else items


def package_versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            pass
    return out


def host_info() -> dict[str, Any]:
    return {"hostname": socket.gethostname(), "platform": platform.platform(), "machine": platform.machine(),
            "cpus": os.cpu_count() or 0}


class _Verifier:
    """Executes witnesses in the sandbox on a background thread, in small batches."""

    def __init__(self, sandbox: Sandbox, suite: Suite, store: RunStore, batch: int = 32) -> None:
        self.sandbox, self.suite, self.store, self.batch = sandbox, suite, store, batch
        self.results: dict[str, WitnessCheck] = {}
        self._queue: queue.Queue[tuple[str, str, str, str, str] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="obench-verify", daemon=True)
        self._thread.start()

    def submit(self, key: str, task_id: str, code: str, witness: str, label: str) -> None:
        self._queue.put((key, task_id, code, witness, label))

    def _run(self) -> None:
        stop = False
        while not stop:
            first = self._queue.get()
            if first is None:
                break
            batch = [first]
            while len(batch) < self.batch:
                try:
                    nxt = self._queue.get(timeout=0.01)
                except queue.Empty:
                    break
                if nxt is None:
                    stop = True
                    break
                batch.append(nxt)
            try:
                checks = verify_witnesses(self.sandbox, self.suite, [(t, c, w) for _, t, c, w, _ in batch],
                                          labels=[lab for *_, lab in batch])
            except Exception as exc:  # noqa: BLE001 - a sandbox failure must not lose the run; re-runs retry
                checks = [WitnessCheck("infra", f"verification failed: {type(exc).__name__}: {exc}"[:300])] * len(batch)
            for (key, *_), chk in zip(batch, checks):
                self.results[key] = chk
            self.store.put_checks([(key, chk.status, chk.detail) for (key, *_), chk in zip(batch, checks)])

    def close(self) -> dict[str, WitnessCheck]:
        self._queue.put(None)
        self._thread.join()
        return self.results


class RunClock:
    """A run's working time across invocations, kept in its run store so that a resumed run adds to it.

    Each invocation is a segment ``[start, last]`` (epoch seconds); ``last`` moves to each stored review
    and to the end, so a killed invocation counts up to its last stored review and the time between
    invocations (a stopped session, a new machine) is not counted.
    """

    def __init__(self, store: RunStore, key: str, *, found_reviews: bool) -> None:
        """Open this invocation's segment; ``found_reviews``: the store already holds some of the run's reviews."""
        self.store, self.key = store, f"clock:{key}"
        old = store.get_meta(self.key)
        if isinstance(old, dict) and isinstance(old.get("segments"), list):
            self.segments: list[list[float]] = list(old["segments"])
            self.unrecorded = bool(old.get("unrecorded"))
        else:
            self.segments, self.unrecorded = [], found_reviews
        now = time.time()
        self.segments.append([now, now])
        self._save()

    def touch(self) -> None:
        """Move this invocation's end to now."""
        self.segments[-1][1] = time.time()
        self._save()

    def _save(self) -> None:
        self.store.set_meta(self.key, {"segments": self.segments, "unrecorded": self.unrecorded})

    def active_seconds(self) -> float | None:
        """The sum of the segments, or None when earlier, unrecorded work produced stored reviews."""
        if self.unrecorded:
            return None
        try:
            return round(sum(max(0.0, float(b) - float(a)) for a, b in self.segments), 1)
        except (TypeError, ValueError):  # a store edited by hand: say unknown rather than fail the run
            return None


class ReviewWriter:
    """Records reviews in the run store from a background thread, within ``interval`` seconds of their arrival.

    Reviews come in bursts: a protocol yields a whole chunk of candidates at once and then works for minutes on
    the next one. Writing only as reviews arrive (batched by time) left a burst's tail in memory until the next
    burst, so a killed run lost it; here the tail is written ``interval`` after it arrives, one write per burst.
    A failed write stops the thread and is raised by :meth:`close`, which writes whatever is left first.
    """

    def __init__(self, store: RunStore, interval: float = 0.25, clock: RunClock | None = None) -> None:
        self.store, self.interval, self.clock = store, interval, clock
        self._pending: list[tuple[str, str, Review]] = []
        self._cond = threading.Condition()
        self._closed = False
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="obench-review-writer", daemon=True)
        self._thread.start()

    def put(self, key: str, candidate_id: str, review: Review) -> None:
        with self._cond:
            self._pending.append((key, candidate_id, review))
            self._cond.notify()

    def _take(self) -> list[tuple[str, str, Review]]:
        with self._cond:
            batch, self._pending = self._pending, []
        return batch

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._pending and not self._closed:
                    self._cond.wait()
                if not self._pending:
                    return  # closed, nothing left
            time.sleep(self.interval)  # let the rest of the burst arrive: one write for it
            try:
                self.store.put_reviews(self._take())
                if self.clock is not None:
                    self.clock.touch()
            except BaseException as exc:  # noqa: BLE001 - raised by close(), after the rest is written
                self._error = exc
                return

    def close(self) -> None:
        """Write every review not yet written; raise the thread's write error, if any."""
        with self._cond:
            self._closed = True
            self._cond.notify()
        self._thread.join()
        self.store.put_reviews(self._take())
        if self._error is not None:
            raise self._error


TRANSPORT_KEYS = ("base_url", "openai_sdk", "executor", "inspect_ai", "inspect_log", "path")
"""Model description keys that say where and how a model was reached (endpoint, SDK or Inspect version, executor, a
weights file's path (its sha256 is the identity),
the Inspect log a run was imported from), not what it is: left out of the reviewer fingerprint."""


def protocol_prompts(described: dict[str, Any]) -> dict[str, Any] | None:
    """A protocol's templates as one manifest entry (names joined, one hash over all)."""
    prompts = described.get("prompts")
    if not isinstance(prompts, dict) or not prompts:
        return None
    return {"name": "+".join(p["name"] for p in prompts.values()), "sha256": digest(prompts), "templates": prompts}


def manifest_prompt(described: dict[str, Any]) -> dict[str, Any] | None:
    """The manifest's ``prompt`` entry of a reviewer description: a model reviewer's template, a protocol's
    templates (:func:`protocol_prompts`), or None for the baselines."""
    prompt = described.get("prompt")
    return prompt if isinstance(prompt, dict) else protocol_prompts(described)


def _identity(described: dict[str, Any]) -> dict[str, Any]:
    """What determines a reviewer's answers: its description minus where and how the model is reached.

    A model served from another host, through another SDK version or executor resumes the same run.
    """
    model = described.get("model")
    if isinstance(model, dict):
        return {**described, "model": {k: v for k, v in model.items() if k not in TRANSPORT_KEYS}}
    return described


def reviewer_fingerprint(described: dict[str, Any], protocol: str) -> str:
    """The manifest's ``reviewer_fingerprint``: a hash of what determines the reviews (see :data:`TRANSPORT_KEYS`)."""
    return digest({"reviewer": _identity(described), "protocol": protocol})


def review_request(suite: Suite, c: CandidateRecord) -> ReviewRequest:
    """What a reviewer is shown about candidate ``c``: its task's prompt and entry point, and the code."""
    task = suite.tasks[c.task_id]
    return ReviewRequest(c.candidate_id, c.task_id, task.prompt, task.entry_point, c.code)


def make_prediction(c: CandidateRecord, review: Review, check: WitnessCheck | None = None) -> Prediction:
    """One line of ``predictions.jsonl``: the suite's facts of ``c``, the review, and its witness check."""
    chk = (check or WitnessCheck("none")) if review.witness else WitnessCheck("none")
    return Prediction(
        candidate_id=c.candidate_id, task_id=c.task_id, label=c.label, origin=c.origin, operator=c.operator,
        family=c.family, subtlety=c.subtlety, changed_lines=list(c.changed_lines), verdict=review.verdict,
        p_buggy=review.p_buggy, lines=list(review.lines), explanation=review.explanation, witness=review.witness,
        witness_status=chk.status, witness_detail=chk.detail, raw=review.raw, parse_error=review.parse_error,
        error=review.error, input_tokens=review.input_tokens, output_tokens=review.output_tokens,
        transcript=review.transcript)


def run_summary(predictions: Sequence[Prediction]) -> tuple[dict[str, int], dict[str, int], str]:
    """The manifest's ``counts``, ``usage`` and ``status`` of a run's predictions.

    ``complete`` needs every request answered and every witness executed (no ``infra`` outcome).
    """
    counts = {"reviews": len(predictions), "abstain": sum(p.verdict == "abstain" for p in predictions),
              "errors": sum(p.error is not None for p in predictions),
              "witnesses": sum(p.witness is not None for p in predictions),
              "verified": sum(p.witness_status == "verified" for p in predictions),
              "infra": sum(p.witness_status == "infra" for p in predictions),
              "suite_conflicts": sum(p.witness_status == "suite_conflict" for p in predictions)}
    usage = {"input_tokens": sum(p.input_tokens for p in predictions),
             "output_tokens": sum(p.output_tokens for p in predictions)}
    status = "complete" if not counts["errors"] and not counts["infra"] else "incomplete"
    return counts, usage, status


def make_reviewer(cfg: EvalConfig, suite: Suite, sandbox: Sandbox) -> Reviewer:
    """The reviewer of ``cfg`` with its context (the decoding seed is the run seed)."""
    from bench.reviewing.reviewers import UnknownReviewer

    if cfg.protocol not in PROTOCOLS:
        raise EvalError(f"unknown protocol {cfg.protocol!r}; known: {', '.join(PROTOCOLS)}")
    gen = GenerateConfig(**{**cfg.generate.to_json(), "seed": cfg.seed})
    if cfg.protocol != "direct":
        try:
            return create_protocol_reviewer(cfg.protocol, cfg.reviewer, cfg.strong, model_options=cfg.model_options,
                                            generate=gen, budgets=cfg.budgets, suite=suite, sandbox=sandbox,
                                            native_tools=cfg.native_tools)
        except ProtocolError as exc:
            raise EvalError(str(exc)) from exc
    if cfg.strong:
        raise EvalError("--strong is used by the critique, consultancy and debate protocols, not by direct")
    ctx = ReviewerContext(suite=suite, sandbox=sandbox, model_options=cfg.model_options, generate=gen, prompt=cfg.prompt)
    try:
        return create_reviewer(cfg.reviewer, ctx)
    except UnknownReviewer as exc:
        raise EvalError(str(exc)) from exc


def evaluate(cfg: EvalConfig, suite: Suite, sandbox: Sandbox, out: Path, *,
             progress: Callable[[int, int], None] | None = None, command: Sequence[str] | None = None,
             store_path: Path | None = None, reviewer: Reviewer | None = None) -> dict[str, Any]:
    """Run (or resume) one evaluation and write its run directory; returns the scores.

    Raises:
        EvalError: unknown reviewer / protocol / split, or an ``out`` holding another run.
        bench.reviewing.verify.GoldCheckFailed: the sandbox cannot reproduce the references' results.
    """
    items = select_items(suite, cfg.split, cfg.limit)
    if not items:
        raise EvalError(f"split {cfg.split!r} of {suite.path} has no candidates")
    reviewer = reviewer or make_reviewer(cfg, suite, sandbox)
    described = reviewer.describe()
    fingerprint = reviewer_fingerprint(described, cfg.protocol)
    items_sha = digest([c.candidate_id for c in items])
    out = Path(out)
    try:
        preflight(out)
    except RunDirError as exc:
        raise EvalError(str(exc)) from exc
    if (out / "manifest.json").exists():
        old = load_manifest(out)
        if (old.reviewer_fingerprint, old.items_sha256, old.suite.get("content_hash")) != (
                fingerprint, items_sha, suite.manifest.content_hash):
            raise EvalError(f"{out} holds another run ({old.reviewer.get('spec')} on {old.split}, "
                            f"{old.n_items} items); pass another --out or delete that directory")
    out.mkdir(parents=True, exist_ok=True)
    store = RunStore(store_path or out / "store.sqlite")
    info = sandbox.info()
    image = info.image_digest or f"{info.backend}:{info.python}"
    started = utc_now()
    first = store.get_meta("first_started_at") or started
    store.set_meta("first_started_at", first)

    gold_key = f"gold:{suite.manifest.content_hash}:{image}:{digest(sorted({c.task_id for c in items}))}"
    t0 = time.monotonic()
    gold = store.get_meta(gold_key)
    if gold is None:
        n = gold_self_check(sandbox, suite, [c.task_id for c in items])
        gold = {"tasks": n, "passed": True, "image": image}
        store.set_meta(gold_key, gold)

    gen = getattr(reviewer, "generate", None)
    manifest = RunManifest(
        status="running", command=list(command or sys.argv),
        suite={"name": suite.manifest.name, "version": suite.manifest.version,
               "content_hash": suite.manifest.content_hash, "path": str(suite.path)},
        split=cfg.split, limit=cfg.limit, n_items=len(items), items_sha256=items_sha, reviewer=described,
        reviewer_fingerprint=fingerprint, protocol=cfg.protocol,
        prompt=manifest_prompt(described),
        decoding=gen.to_json() if isinstance(gen, GenerateConfig) else {},
        seeds={"seed": cfg.seed, "bootstrap": cfg.seed, "decoding": cfg.seed},
        harness=info.to_json(), gold_check=gold, packages=package_versions(), host=host_info(),
        first_started_at=first, started_at=started, leaderboard_eligible=cfg.reviewer != "oracle",
    )
    write_manifest(out, manifest)

    t_reviews = time.monotonic()
    requests = [review_request(suite, c) for c in items]
    keys = [digest([fingerprint, r.content_hash()]) for r in requests]
    reviews: dict[int, Review] = {}
    stored = store.reviews(keys)
    for i, k in enumerate(keys):
        if k in stored:
            reviews[i] = stored[k]
    wkeys: dict[int, str] = {}

    def wkey(i: int, review: Review) -> str:
        c = items[i]
        wkeys[i] = witness_key(c.task_id, suite.tasks[c.task_id].reference, c.code, review.witness or "", image)
        return wkeys[i]

    verifier = _Verifier(sandbox, suite, store)
    known_checks = store.checks([wkey(i, r) for i, r in reviews.items() if r.witness])
    for i, r in reviews.items():
        if r.witness and wkeys[i] not in known_checks:
            verifier.submit(wkeys[i], items[i].task_id, items[i].code, r.witness, items[i].label)
    total, done = len(items), len(reviews)
    if progress:
        progress(done, total)
    todo = [i for i in range(total) if i not in reviews]
    clock = RunClock(store, digest([fingerprint, items_sha]), found_reviews=bool(reviews))
    writer = ReviewWriter(store, clock=clock)
    try:
        for j, review in stream_reviews(reviewer, [requests[i] for i in todo]):
            i = todo[j]
            reviews[i] = review
            writer.put(keys[i], items[i].candidate_id, review)
            if review.witness:
                verifier.submit(wkey(i, review), items[i].task_id, items[i].code, review.witness, items[i].label)
            done += 1
            if progress:
                progress(done, total)
    finally:
        try:
            writer.close()
        finally:
            fresh_checks = verifier.close()
    t_done = time.monotonic()
    checks = {**{k: WitnessCheck(s, d) for k, (s, d) in known_checks.items()}, **fresh_checks}  # type: ignore[arg-type]

    predictions = []
    for i, c in enumerate(items):
        r = reviews.get(i) or Review.failed("the reviewer returned no review for this candidate")
        predictions.append(make_prediction(c, r, checks.get(wkeys.get(i, ""))))
    write_predictions(out, predictions)
    counts, usage, status = run_summary(predictions)
    timings = {"gold_check_s": round(t_reviews - t0, 3), "review_and_verify_s": round(t_done - t_reviews, 3),
               "reviewed_now": len(todo)}
    clock.touch()
    final = manifest.model_copy(update={"status": status, "ended_at": utc_now(), "counts": counts, "usage": usage,
                                        "timings": timings, "active_seconds": clock.active_seconds()})
    write_manifest(out, final)
    store.close()
    t_render = time.monotonic()
    scores = render(out)
    write_manifest(out, final.model_copy(update={"timings": {**timings, "score_and_report_s":
                                                             round(time.monotonic() - t_render, 3)}}))
    return scores
