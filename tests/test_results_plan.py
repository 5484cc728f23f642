"""`tools/results.py` (``make results``): the plan's commands fit the real CLI, ``--only`` and the skip check."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import typer

from obench import app
from tools import results

ROOT = Path(__file__).resolve().parents[1]
STEPS = ["install", "direct-smollm2-135m", "direct-qwen2.5-coder-0.5b", "direct-qwen2.5-coder-1.5b", "exec-qwen0.5b",
         "ogr", "grid-honest", "grid-sneaky", "w2s", "submit-smollm2-135m-direct",
         "submit-qwen2.5-coder-0.5b-direct", "submit-qwen2.5-coder-1.5b-direct", "submit-qwen2.5-coder-0.5b-exec",
         "submit-qwen2.5-coder-0.5b-critique", "submit-qwen2.5-coder-0.5b-consultancy",
         "submit-qwen2.5-coder-0.5b-debate", "leaderboard-build"]


def dry_run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "tools/results.py", "--dry-run", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)


def plan_commands(stdout: str) -> dict[str, list[str]]:
    """Step name -> its printed command lines."""
    steps: dict[str, list[str]] = {}
    current = None
    for line in stdout.splitlines():
        if line.startswith("# "):
            current = line[2:].split()[0]
            steps[current] = []
        elif line.strip():
            assert current is not None, f"a command before any step header: {line}"
            steps[current].append(line)
    return steps


def resolve(argv: list[str]):
    """The click command an ``obench ...`` argv names, and the arguments left for it."""
    cmd = typer.main.get_command(app)
    path = ["obench"]
    rest = argv[1:]
    while hasattr(cmd, "commands"):
        assert rest and rest[0] in cmd.commands, f"{' '.join(path)}: no sub-command {rest[:1]}; has {sorted(cmd.commands)}"
        path.append(rest[0])
        cmd, rest = cmd.commands[rest[0]], rest[1:]
    return cmd, path, rest


def test_dry_run_lists_every_step_with_commands_the_cli_accepts() -> None:
    proc = dry_run()
    assert proc.returncode == 0, proc.stderr
    steps = plan_commands(proc.stdout)
    assert list(steps) == STEPS
    checked = 0
    for step, lines in steps.items():
        assert lines, f"step {step} prints no command"
        for line in lines:
            argv = shlex.split(line, comments=True)
            if argv[0] != "obench":
                # publishing the w2s experiment for the site; rendering the README's tables from the site
                assert (step, argv[0]) in (("w2s", "cp"), ("leaderboard-build", "python")), line
                continue
            cmd, path, rest = resolve(argv)
            if path[:2] == ["obench", "eval"]:  # small models answer in the schema, every protocol included
                assert "--structured" in rest, line
            known = {o for p in cmd.params for o in (*p.opts, *p.secondary_opts)}
            used = [a for a in rest if a.startswith("--")]
            unknown = [o for o in used if o not in known]
            assert not unknown, f"{step}: {' '.join(path)} has no option(s) {unknown}; known: {sorted(known)}"
            # and click parses the whole command line (types, ranges, required options, arguments)
            ctx = cmd.make_context(" ".join(path), list(rest), resilient_parsing=False)
            assert ctx.params is not None
            checked += 1
    assert checked >= 25


def test_only_selects_steps_and_groups() -> None:
    proc = dry_run("--only", "direct,ogr")
    assert proc.returncode == 0, proc.stderr
    assert list(plan_commands(proc.stdout)) == ["direct-smollm2-135m", "direct-qwen2.5-coder-0.5b",
                                                 "direct-qwen2.5-coder-1.5b", "ogr"]
    proc = dry_run("--only", "w2s", "--subset", "50", "--out", "/tmp/elsewhere")
    assert proc.returncode == 0, proc.stderr
    assert all("/tmp/elsewhere/" in line for line in plan_commands(proc.stdout)["w2s"])
    plan = plan_commands(dry_run("--only", "exec,ogr", "--subset", "50").stdout)
    assert sum("--limit 50" in line for line in plan["ogr"]) == 5  # weak and strong direct, three strong protocols
    (exec_run,) = plan["exec-qwen0.5b"]
    assert "--protocol exec" in exec_run and "--limit 50" in exec_run  # exec is a subset entry, shared with OGR
    assert any(f"--protocol-run {exec_run.split('--out ')[1].split()[0]}" in line for line in plan["ogr"])


def test_only_unknown_step_fails_listing_the_known_ones() -> None:
    proc = dry_run("--only", "direct,nope")
    assert proc.returncode == 2
    assert "nope" in proc.stderr
    for name in STEPS:
        assert name in proc.stderr


def _fake_complete_run(run: Path, split: str = "test", limit: int = 0) -> None:
    run.mkdir(parents=True)
    (run / "manifest.json").write_text(json.dumps({"status": "complete", "split": split, "limit": limit}))
    (run / "scores.json").write_text("{}")
    (run / "predictions.jsonl").write_text("")


def test_a_completed_step_is_skipped_and_logged(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _fake_complete_run(tmp_path / "direct-smollm2-135m")

    def runner(argv: list[str]) -> int:
        raise AssertionError(f"ran {argv}")

    assert results.main(["--out", str(tmp_path), "--only", "direct-smollm2-135m"], runner=runner) == 0
    assert "skip (complete)" in capsys.readouterr().out
    rows = [json.loads(line) for line in (tmp_path / "timings.jsonl").read_text().splitlines()]
    assert [(r["step"], r["status"]) for r in rows] == [("direct-smollm2-135m", "skipped")]
    assert set(rows[0]) == {"step", "command", "seconds", "started_at", "ended_at", "status"}


def test_an_unfinished_step_runs_and_is_timed(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(results, "SUBMISSIONS", tmp_path / "no-entries")  # no committed entry stands in
    run = tmp_path / "direct-smollm2-135m"
    _fake_complete_run(run)
    (run / "manifest.json").write_text(json.dumps({"status": "incomplete", "split": "test", "limit": 0}))
    calls: list[list[str]] = []

    def runner(argv: list[str]) -> int:  # "resumes" the run: it ends complete
        calls.append(argv)
        (run / "manifest.json").write_text(json.dumps({"status": "complete", "split": "test", "limit": 0}))
        return 0

    assert results.main(["--out", str(tmp_path), "--only", "direct-smollm2-135m"], runner=runner) == 0
    assert calls == [["obench", "eval", "--reviewer", "local:smollm2-135m", "--split", "test", "--structured",
                      "--seed", "0", "--out", str(run)]]
    out = capsys.readouterr().out
    assert "== [direct-smollm2-135m] obench eval --reviewer local:smollm2-135m" in out and " s (ok)" in out
    rows = [json.loads(line) for line in (tmp_path / "timings.jsonl").read_text().splitlines()]
    assert rows[-1]["status"] == "ok" and rows[-1]["command"].startswith("obench eval")

    # a command that exits 0 but leaves its output unfinished stops the plan with exit 1
    (run / "manifest.json").write_text(json.dumps({"status": "incomplete", "split": "test", "limit": 0}))
    assert results.main(["--out", str(tmp_path), "--only", "direct", "--keep-going"], runner=lambda argv: 0) == 1
    rows = [json.loads(line) for line in (tmp_path / "timings.jsonl").read_text().splitlines()]
    assert [r["status"] for r in rows[-3:]] == ["incomplete"] * 3


def _store(path: Path, rows: dict[str, str]) -> None:
    """A WAL-mode SQLite file like a run store, with ``rows`` in one table."""
    import sqlite3

    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("CREATE TABLE IF NOT EXISTS reviews (key TEXT PRIMARY KEY, value TEXT)")
    con.executemany("INSERT OR REPLACE INTO reviews VALUES (?, ?)", rows.items())
    con.commit()
    con.close()


def _rows(path: Path) -> dict[str, str]:
    import sqlite3

    con = sqlite3.connect(path)
    try:
        return dict(con.execute("SELECT key, value FROM reviews"))
    finally:
        con.close()


def test_checkpoint_copies_run_stores_and_w2s_caches_and_restore_fills_only_what_is_missing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    import numpy as np

    monkeypatch.setattr(results, "SUBMISSIONS", tmp_path / "no-entries")  # the step below runs, no entry stands in

    out, ckpt = tmp_path / "real", tmp_path / "ckpt"
    _store(out / "direct-x" / "store.sqlite", {"a": "1", "b": "2"})
    _store(out / "grid-honest" / "cells" / "g__r" / "store.sqlite", {"c": "3"})
    (out / "w2s" / "cache-m").mkdir(parents=True)
    np.savez(out / "w2s" / "cache-m" / "embeddings-0.npz", keys=np.array(["k"]), vectors=np.zeros((1, 2), np.float32))
    (out / "w2s" / "cache-m" / "embeddings-0.tmp.npz").write_bytes(b"half written")
    (out / "direct-x" / "manifest.json").write_text("{}")  # rebuilt by the step: not checkpointed

    assert results.main(["--out", str(out), "--checkpoints", str(ckpt), "--checkpoint"]) == 0
    assert "3 file(s) written" in capsys.readouterr().out
    copied = sorted(str(p.relative_to(ckpt)) for p in ckpt.rglob("*") if p.is_file())
    assert copied == ["direct-x/store.sqlite", "grid-honest/cells/g__r/store.sqlite", "w2s/cache-m/embeddings-0.npz"]
    assert _rows(ckpt / "direct-x" / "store.sqlite") == {"a": "1", "b": "2"}  # WAL content included

    # unchanged: nothing written; a new row: that store alone is written again
    assert results.checkpoint(out, ckpt) == []
    _store(out / "direct-x" / "store.sqlite", {"d": "4"})
    assert results.checkpoint(out, ckpt) == [ckpt / "direct-x" / "store.sqlite"]
    assert _rows(ckpt / "direct-x" / "store.sqlite") == {"a": "1", "b": "2", "d": "4"}

    # a fresh clone: the plan restores every checkpointed file before it runs, and never replaces a local one
    fresh = tmp_path / "fresh"
    _store(fresh / "grid-honest" / "cells" / "g__r" / "store.sqlite", {"local": "newer"})
    ran: list[list[str]] = []
    results.main(["--out", str(fresh), "--checkpoints", str(ckpt), "--only", "direct-smollm2-135m"],
                 runner=lambda argv: ran.append(argv) or 1)
    shown = capsys.readouterr().out
    assert "restored from checkpoint" in shown and ran, shown
    assert _rows(fresh / "direct-x" / "store.sqlite") == {"a": "1", "b": "2", "d": "4"}
    assert _rows(fresh / "grid-honest" / "cells" / "g__r" / "store.sqlite") == {"local": "newer"}
    assert (fresh / "w2s" / "cache-m" / "embeddings-0.npz").read_bytes() == \
        (out / "w2s" / "cache-m" / "embeddings-0.npz").read_bytes()
    assert results.restore(ckpt, fresh) == []


def test_the_checkpoint_folder_is_the_one_tracked_place_under_runs() -> None:
    def ignored(path: str) -> bool:
        return subprocess.run(["git", "check-ignore", "-q", "--no-index", path], cwd=ROOT).returncode == 0

    assert not ignored("runs/checkpoints/real/direct-x/store.sqlite")
    assert ignored("runs/real/direct-x/store.sqlite") and ignored("runs/demo/lint/predictions.jsonl")
    assert results.CHECKPOINTS == ROOT / "runs" / "checkpoints"


def test_checkpoint_of_a_store_being_written_holds_its_committed_rows(tmp_path: Path) -> None:
    """A run writes its store while the checkpoint is taken: rows still in the WAL file are copied too (a
    byte copy of the database file would miss them)."""
    import sqlite3

    out = tmp_path / "real"
    (out / "direct-x").mkdir(parents=True)
    writer = sqlite3.connect(out / "direct-x" / "store.sqlite")
    try:
        writer.execute("PRAGMA journal_mode=WAL")
        writer.execute("PRAGMA wal_autocheckpoint=0")
        writer.execute("CREATE TABLE reviews (key TEXT PRIMARY KEY, value TEXT)")
        writer.executemany("INSERT INTO reviews VALUES (?, ?)", [(str(i), "x" * 100) for i in range(200)])
        writer.commit()
        assert (out / "direct-x" / "store.sqlite-wal").stat().st_size > 0
        assert results.checkpoint(out, tmp_path / "ckpt") == [tmp_path / "ckpt" / "direct-x" / "store.sqlite"]
    finally:
        writer.close()
    assert len(_rows(tmp_path / "ckpt" / "direct-x" / "store.sqlite")) == 200
    assert not (tmp_path / "ckpt" / "direct-x" / "store.sqlite-wal").exists()


def test_a_committed_entry_stands_in_for_its_run_when_the_run_directory_is_gone(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """On a new machine runs/real is empty, but the leaderboard holds the finished runs: the plan must not
    ask the models for them again, and what reads them (w2s floor, OGR's exec run) reads the entry."""
    subs = tmp_path / "submissions"
    monkeypatch.setattr(results, "SUBMISSIONS", subs)
    out = tmp_path / "real"
    argv = ["obench", "eval", "--reviewer", "local:qwen2.5-coder-0.5b", "--split", "test", "--structured",
            "--seed", "0", "--out", "somewhere/else"]
    entry = subs / "real-qwen2.5-coder-0.5b-direct"
    entry.mkdir(parents=True)
    (entry / "predictions.jsonl").write_text("")

    def write(command: list[str], content_hash: str | None = results.default_suite_hash(), status: str = "complete"):
        (entry / "manifest.json").write_text(json.dumps({"status": status, "command": command,
                                                          "suite": {"content_hash": content_hash}}))

    def plan() -> dict[str, results.Step]:
        return {s.name: s for s in results.build_plan(out)}

    write(argv)
    steps = plan()
    direct = steps["direct-qwen2.5-coder-0.5b"].actions[0]
    assert direct.done() and "stands in" in direct.shown
    w2s = next(a for a in steps["w2s"].actions if a.argv[:2] == ["obench", "w2s"])
    assert w2s.argv[w2s.argv.index("--weak-test") + 1] == results.rel(entry)
    assert steps["submit-qwen2.5-coder-0.5b-direct"].actions[0].done()
    # the others still run: their directories are empty and they have no entry here
    assert not steps["direct-qwen2.5-coder-1.5b"].actions[0].done()
    assert not steps["submit-qwen2.5-coder-1.5b-direct"].actions[0].done()

    # not the same run: another seed, another suite, an unfinished run, a malformed command
    for bad in (lambda: write(argv[:-3] + ["1", "--out", "x"]), lambda: write(argv, "sha256:other"),
                lambda: write(argv, status="running"), lambda: write("obench eval")):  # type: ignore[arg-type]
        bad()
        steps = plan()
        assert not steps["direct-qwen2.5-coder-0.5b"].actions[0].done()
        w2s = next(a for a in steps["w2s"].actions if a.argv[:2] == ["obench", "w2s"])
        assert w2s.argv[w2s.argv.index("--weak-test") + 1] == results.rel(out / "direct-qwen2.5-coder-0.5b")

    # a run directory of its own (even unfinished: it is being resumed) is used before any entry
    write(argv)
    _fake_complete_run(out / "direct-qwen2.5-coder-0.5b")
    (out / "direct-qwen2.5-coder-0.5b" / "manifest.json").write_text(json.dumps({"status": "running"}))
    steps = plan()
    assert "stands in" not in steps["direct-qwen2.5-coder-0.5b"].actions[0].shown
    assert not steps["direct-qwen2.5-coder-0.5b"].actions[0].done()
