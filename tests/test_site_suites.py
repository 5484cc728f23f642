"""The site groups entries by suite: one ranked table per suite, the default suite first, never ranked together.

Two small suites are written with ``write_suite`` from records of the committed v1 (a "new" default one and an
"old" one), each evaluated by deterministic baselines in the local sandbox (no model, no witnesses, no Docker),
submitted with ``obench submit``'s ``submit`` and built into ``tmp_path``.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
from pathlib import Path

import pytest

import tasks.suite as suite_mod
from bench.reviewing.reviewers import ReviewRequest, create_reviewer
from bench.runs.evaluate import EvalConfig, evaluate
from leaderboard.site import build_site, default_suite, rank_entries, short_hash, suite_ref
from leaderboard.submission import submit
from leaderboard.validate import known_suites
from tasks.suite import DATA_DIR, load_suite, write_suite

NEW, OLD = ("tiny-v2", "2.0.0"), ("tiny-v1", "1.0.0")
ON_NEW = {"a-lint": "lint", "a-always-buggy": "always-buggy"}
ON_OLD = {"b-always-buggy": "always-buggy", "b-random": "random"}


def _small_suites(root: Path) -> dict[str, Path]:
    """``tiny-v2``: test tasks of v1 where the lint baseline separates the kept candidates perfectly (so that its
    CI lies above always-buggy's); ``tiny-v1``: three other test tasks with all their candidates."""
    v1 = load_suite("oversightbench-v1")  # the tiny suites are cut from v1's test split (v1 stays as released)
    test = v1.split("test")
    reqs = [ReviewRequest(c.candidate_id, c.task_id, v1.tasks[c.task_id].prompt, v1.tasks[c.task_id].entry_point,
                          c.code) for c in test]
    lint = {c.candidate_id: r.p_buggy for c, r in zip(test, create_reviewer("lint").review(reqs))}
    low = min(lint.values())
    by_task: dict[str, list] = {}
    for c in test:
        by_task.setdefault(c.task_id, []).append(c)
    kept = {t: [c for c in cs if (c.label == "correct") == (lint[c.candidate_id] == low)] for t, cs in by_task.items()}
    separable = [t for t in sorted(kept) if {c.label for c in kept[t]} == {"correct", "buggy"}][:4]
    others = [t for t in sorted(by_task) if t not in separable and {c.label for c in by_task[t]} == {"correct", "buggy"}][:3]
    assert len(separable) == 4 and len(others) == 3
    out = {}
    for (name, version), tids, cands in ((NEW, separable, [c for t in separable for c in kept[t]]),
                                         (OLD, others, [c for t in others for c in by_task[t]])):
        d = root / name
        m = write_suite(d, [v1.tasks[t] for t in tids], cands, name, version, build={"from": "oversightbench-v1"},
                        stats={"n_test": len(cands)}, datasheet=f"# {name}\n\ncontent hash {{content_hash}}\n")
        out[m.content_hash] = d
    return out


@pytest.fixture(scope="module")
def built(tmp_path_factory, local_sandbox):
    root = tmp_path_factory.mktemp("suites")
    suites = _small_suites(root)
    dirs = {suite_ref(d)["name"]: d for d in suites.values()}
    subs = tmp_path_factory.mktemp("subs")
    for suite_name, entries in ((NEW[0], ON_NEW), (OLD[0], ON_OLD)):
        s = load_suite(dirs[suite_name])
        for name, reviewer in entries.items():
            run = root / "runs" / name
            evaluate(EvalConfig(reviewer=reviewer, split="test"), s, local_sandbox, run,
                     command=["obench", "eval", "--reviewer", reviewer, "--suite", str(dirs[suite_name])])
            submit(run, name, org="Tests", root=subs)
    out = tmp_path_factory.mktemp("site") / "site"
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(suite_mod, "DEFAULT_SUITE", NEW[0])  # the new suite is the default, as v2 is about to be
        res = build_site(subs, out, suites=suites, grids=root / "no-grids", w2s=root / "no-w2s")
    assert not res.rejected, [str(p) for v in res.rejected for p in v.problems][:5]
    refs = {suite_ref(d)["name"]: suite_ref(d) for d in suites.values()}
    return {"res": res, "out": out, "new": refs[NEW[0]], "old": refs[OLD[0]], "suites": suites, "subs": subs,
            "root": root}


def _tables(html: str) -> list[tuple[str, str, list[tuple[str, int]]]]:
    """(table id, suite hash, [(entry name, rank)]) of each leaderboard table, in page order."""
    tables = re.findall(r'<table id="([^"]+)" class="sortable" data-suite="([^"]+)">(.*?)</table>', html, re.S)
    return [(tid, h, [(n, int(r)) for n, r in re.findall(r'<tr data-name="([^"]+)">\s*<td class="num" data-value="(\d+)">', body)])
            for tid, h, body in tables]


def test_index_has_one_ranked_table_per_suite_default_first(built):
    new, old, html = built["new"], built["old"], (built["out"] / "index.html").read_text()
    tables = _tables(html)
    assert [(tid, h) for tid, h, _ in tables] == [("leaderboard", new["content_hash"]),
                                                  (f"leaderboard-{short_hash(old['content_hash'])}", old["content_hash"])]
    assert {n for n, _ in tables[0][2]} == set(ON_NEW) and {n for n, _ in tables[1][2]} == set(ON_OLD)
    # headings name the suite, version and short hash; the default suite's table first, the other under a warning
    first = html.index(f'<h2 id="suite-{short_hash(new["content_hash"])}">Suite <code>tiny-v2</code> 2.0.0 · '
                       f'<code title="{new["content_hash"]}">{short_hash(new["content_hash"])}</code></h2>')
    other = html.index('<h2 id="other-suites">Entries on older or other suites: not comparable</h2>')
    second = html.index(f'<h3 id="suite-{short_hash(old["content_hash"])}">Suite <code>tiny-v1</code> 1.0.0 · '
                        f'<code title="{old["content_hash"]}">{short_hash(old["content_hash"])}</code> (not the default suite)</h3>')
    assert first < html.index('<table id="leaderboard"') < other < second
    # the header line and the BibTeX describe the default suite
    assert f"Suite <code>tiny-v2</code> 2.0.0 · <code>{new['content_hash']}</code> · test split." in html
    assert f"Suite tiny-v2 version 2.0.0, content hash {new['content_hash']}" in html
    assert old["content_hash"] not in html.split('<pre id="bibtex">', 1)[1]
    # one overview plot per suite
    assert 'src="plots/overview.png"' in html and f'src="plots/overview-{short_hash(old["content_hash"])}.png"' in html
    assert (built["out"] / "plots" / f"overview-{short_hash(old['content_hash'])}.png").stat().st_size > 0


def test_ranks_are_computed_within_a_suite_only(built):
    res = built["res"]
    entries = {e["name"]: e for e in res.entries}
    # precondition that makes this test bite: lint's CI on the new suite lies above always-buggy's 0.05
    assert entries["a-lint"]["metrics"]["catch@5%fpr"]["ci"][0] > 0.05
    assert entries["a-always-buggy"]["metrics"]["catch@5%fpr"]["ci"][1] == pytest.approx(0.05)
    assert [e["name"] for e in res.entries][:2] == ["a-lint", "a-always-buggy"]  # default suite first
    assert (entries["a-lint"]["rank"], entries["a-always-buggy"]["rank"]) == (1, 2)
    assert {entries[n]["rank"] for n in ON_OLD} == {1}  # ranked among the old suite's entries alone
    assert all(entries[n]["tied"] for n in ON_OLD)
    # ranked together, always-buggy on the old suite would be rank 2: the suites are kept apart
    together = [{"name": e["name"], "metrics": e["metrics"]} for e in res.entries]
    rank_entries(together)
    assert next(e["rank"] for e in together if e["name"] == "b-always-buggy") == 2
    html = (built["out"] / "index.html").read_text()
    ranks = {n: r for _, _, rows in _tables(html) for n, r in rows}
    assert ranks == {n: e["rank"] for n, e in entries.items()}


def test_results_keep_every_entry_with_its_suite(built):
    new, old, out = built["new"], built["old"], built["out"]
    doc = json.loads((out / "results.json").read_text())
    assert doc["suite"] == new
    assert doc["suites"] == [{**new, "default": True, "subset": 0, "n_entries": 2},
                             {**old, "default": False, "subset": 0, "n_entries": 2}]
    assert {e["name"]: e["suite"] for e in doc["entries"]} == {**{n: new for n in ON_NEW}, **{n: old for n in ON_OLD}}
    assert {r["name"]: r["suite"]["content_hash"] for r in doc["protocols"]} == {
        **{n: new["content_hash"] for n in ON_NEW}, **{n: old["content_hash"] for n in ON_OLD}}
    rows = list(csv.DictReader(io.StringIO((out / "results.csv").read_text())))
    header = (out / "results.csv").read_text().splitlines()[0].split(",")
    assert header[11:13] == ["suite_version", "suite_content_hash"] and header[-2:] == ["suite_name", "subset"]
    assert [(r["name"], r["suite_name"], r["suite_version"], r["suite_content_hash"]) for r in rows][:2] == [
        ("a-lint", "tiny-v2", "2.0.0", new["content_hash"]), ("a-always-buggy", "tiny-v2", "2.0.0", new["content_hash"])]
    assert {r["name"]: (r["rank"], r["suite_name"]) for r in rows if r["name"] in ON_OLD} == {
        n: ("1", "tiny-v1") for n in ON_OLD}


def test_entry_pages_name_their_suite(built):
    new, old, out = built["new"], built["old"], built["out"]
    for name in ON_NEW:
        page = (out / "entries" / f"{name}.html").read_text()
        assert f'<p id="suite">Suite <code>tiny-v2</code> 2.0.0 · <code title="{new["content_hash"]}">' in page
        assert "(the default suite)" in page and "not the default suite" not in page
        assert f"Suite tiny-v2 version 2.0.0, content hash {new['content_hash']}" in page
    for name in ON_OLD:
        page = (out / "entries" / f"{name}.html").read_text()
        assert f'<p id="suite">Suite <code>tiny-v1</code> 1.0.0 · <code title="{old["content_hash"]}">' in page
        assert "<strong>not the default suite</strong> <code>tiny-v2</code> 2.0.0" in page
        assert "among the entries on <code>tiny-v1</code> 1.0.0." in page
        assert f"Suite tiny-v1 version 1.0.0, content hash {old['content_hash']}" in page  # it cites its own suite


def test_protocol_view_has_a_table_per_suite(built):
    new, old = built["new"], built["old"]
    html = (built["out"] / "protocols.html").read_text()
    ids = re.findall(r'<table id="([^"]+)" data-suite="([^"]+)">', html)
    assert ids == [("protocols", new["content_hash"]), (f"protocols-{short_hash(old['content_hash'])}", old["content_hash"])]
    body = html.split(f'<table id="protocols-{short_hash(old["content_hash"])}"', 1)[1]
    assert set(re.findall(r'data-protocol="direct" data-name="([^"]+)"', body)) == set(ON_OLD)


def test_entries_only_on_another_suite_leave_the_default_table_empty(built, tmp_path):
    subs = tmp_path / "subs"
    for name in ON_OLD:
        shutil.copytree(built["subs"] / name, subs / name)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(suite_mod, "DEFAULT_SUITE", NEW[0])
        res = build_site(subs, tmp_path / "site", suites=built["suites"], grids=tmp_path / "x", w2s=tmp_path / "x")
    assert not res.rejected
    html = (tmp_path / "site" / "index.html").read_text()
    tables = _tables(html)
    assert [(h, rows) for _, h, rows in tables][0] == (built["new"]["content_hash"], [])
    assert {n for n, _ in tables[1][2]} == set(ON_OLD)
    assert "No valid submissions on this suite yet." in html
    assert f"Suite <code>tiny-v2</code> 2.0.0 · <code>{built['new']['content_hash']}</code> · test split." in html


def test_the_default_suite_is_the_packaged_default_suite():
    assert default_suite(known_suites()) == suite_ref(DATA_DIR / suite_mod.DEFAULT_SUITE)


def test_a_subset_protocol_entry_is_compared_on_its_own_items():
    """OGR of a protocol entry on a subset uses the whole-split direct entries restricted to the subset's items
    (the weak reviewer is perfect outside the subset and blind inside it: only the restriction gives weak = 0.5)."""
    from bench.metrics.scoring import Item
    from leaderboard.site import protocol_view

    def item(tid: str, buggy: bool, p: float) -> Item:
        return Item(task_id=tid, buggy=buggy, verdict="buggy" if p >= 0.5 else "correct", p_buggy=p)

    ids = [(f"c{i:02d}", f"t{i // 4}", i % 2 == 0) for i in range(40)]
    subset = {cid for cid, _, _ in ids[:20]}
    weak = {cid: item(t, b, 0.5 if cid in subset else float(b)) for cid, t, b in ids}
    strong = {cid: item(t, b, float(b)) for cid, t, b in ids}
    proto = {cid: item(t, b, 0.9 if b else 0.4) for cid, t, b in ids if cid in subset}
    suite = {"name": "s", "version": "1", "content_hash": "sha256:" + "0" * 64}

    def entry(name: str, reviewer: str, protocol: str, n: int, strong_spec: str | None = None) -> dict:
        est = {"value": 0.5, "ci": [0.4, 0.6]}
        return {"name": name, "reviewer": reviewer, "protocol": protocol, "strong": strong_spec, "suite": suite,
                "n_items": n, "subset": 20 if n == 20 else 0, "metrics": {"catch@5%fpr": est, "auroc": est}}

    entries = [entry("weak", "w", "direct", 40), entry("strong", "s", "direct", 40),
               entry("crit", "w", "critique", 20, "s"), entry("exec", "w", "exec", 20), entry("exec-ref", "w", "exec", 20)]
    entries[-1]["ogr_strong"] = "s"  # exec has no strong model: its submitter names the reference
    rows = {r["name"]: r for r in protocol_view(entries, {"weak": weak, "strong": strong, "crit": proto, "exec": proto,
                                                          "exec-ref": proto})}
    assert rows["exec"]["ogr"] is None and "--ogr-strong" in rows["exec"]["ogr_note"]
    assert rows["exec-ref"]["ogr"] == rows["crit"]["ogr"] and rows["exec-ref"]["ogr_from"]["strong"] == "strong"
    ogr = rows["crit"]["ogr"]["auroc"]
    assert rows["crit"]["ogr_from"] == {"weak": "weak", "strong": "strong"}
    assert (ogr["n_items"], ogr["weak"], ogr["strong"], ogr["protocol"]) == (20, 0.5, 1.0, 1.0)
    assert ogr["value"] == 1.0
    # a direct entry that does not cover the protocol entry's items is not used
    rows = {r["name"]: r for r in protocol_view(entries, {"weak": {k: v for k, v in weak.items() if k != "c00"},
                                                          "strong": strong, "crit": proto, "exec": proto,
                                                          "exec-ref": proto})}
    assert rows["crit"]["ogr"] is None and "no direct entry of `w`" in rows["crit"]["ogr_note"]
