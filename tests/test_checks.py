"""Suite v2's release checks (tasks.checks), their datasheet sections and the README table tool."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jinja2 import Environment, FileSystemLoader

from tasks import checks
from tasks.checks import (
    RELEASE_RULES,
    by_origin,
    check_stats,
    families_by_origin,
    prompt_length_auroc,
    release_checks,
    similarity_auroc,
    similarity_to_reference,
    subtlety_by_origin,
    task_balance,
    task_prior_auroc,
)
from tasks.suite import CandidateRecord
from tools import suite_tables

ROOT = Path(__file__).resolve().parents[1]
REF = "def f(xs):\n    total = 0\n    for x in xs:\n        total += x\n    return total\n"
OTHER = "def f(xs):\n    return sum(v for v in xs)\n"


def cand(task: str, split: str, label: str, code: str = OTHER, origin: str | None = None, family: str = "",
         n_failed: int = 0, n_hidden: int = 100) -> CandidateRecord:
    origin = origin or ("mutation" if label == "buggy" else "rewrite")
    return CandidateRecord(candidate_id=f"{task}-{split}-{label}-{hash((code, origin, family, n_failed))}",
                           task_id=task, split=split, code=code, label=label, origin=origin, rewrites=[],
                           operator="", family=family, changed_lines=[], witnesses="[]",
                           subtlety=n_failed / n_hidden if label == "buggy" else 0.0,
                           n_failed=n_failed, n_hidden=n_hidden)


def balanced(task: str, split: str, k: int = 4) -> list[CandidateRecord]:
    return ([cand(task, split, "buggy", code=f"{OTHER}# {i}\nx = {i}\n", n_failed=i + 1) for i in range(k)]
            + [cand(task, split, "correct", code=f"{REF}y = {i}\n") for i in range(k)])


SUITE = balanced("t1", "train") + balanced("t2", "train", 5) + balanced("t3", "dev") + balanced("t4", "test")


def good_stats() -> dict:
    return {
        "task_balance": {"train": {"tasks": 10, "balanced": 10, "min_per_label": 4, "max_per_label": 7},
                         "dev": {"tasks": 0, "balanced": 0, "min_per_label": None, "max_per_label": None},
                         "test": {"tasks": 90, "balanced": 90, "min_per_label": 4, "max_per_label": 4}},
        "by_split": {"train": {"buggy": 40, "correct": 40}, "dev": {"buggy": 0, "correct": 0},
                     "test": {"buggy": 300, "correct": 300}},
        "leakage_auroc": 0.55,
        "similarity_auroc": {"train": 0.7, "dev": None, "test": 0.4, "all": 0.6},
        "task_prior_auroc": {"train": 0.5, "dev": None, "test": 0.5, "all": 0.5},
        "by_origin": {"mutation": {"buggy": 10, "correct": 0}, "authored": {"buggy": 328, "correct": 164}},
    }


# -- similarity ---------------------------------------------------------------------------------------

def test_similarity_ignores_comments_and_layout():
    assert similarity_to_reference(REF, REF) == 1.0
    commented = "# header\ndef f(xs):  # sum\n\n    total = 0\n    for x in xs:\n        total += x\n    return total\n"
    assert similarity_to_reference(commented, REF) == 1.0
    assert 0.0 < similarity_to_reference(OTHER, REF) < 1.0


def test_similarity_falls_back_on_untokenizable_text():
    broken = "def f(:\n    '''unterminated"
    assert 0.0 <= similarity_to_reference(broken, REF) <= 1.0
    assert similarity_to_reference(broken, broken) == 1.0


@settings(max_examples=200, deadline=None)
@given(st.text(), st.text())
def test_similarity_never_raises_and_is_a_ratio(code, reference):
    x = similarity_to_reference(code, reference)
    assert isinstance(x, float) and 0.0 <= x <= 1.0


def test_similarity_auroc_sees_copies_of_the_reference():
    cands = []
    for t, sp in (("a", "train"), ("b", "test"), ("c", "dev")):
        cands += [cand(t, sp, "buggy", code=REF) for _ in range(3)]
        cands += [cand(t, sp, "correct", code=OTHER + f"z = {i}\n") for i in range(3)]
    refs = {t: REF for t in "abc"}
    auc = similarity_auroc(cands, refs)
    assert auc == {"train": 1.0, "dev": 1.0, "test": 1.0, "all": 1.0}
    stats = {**good_stats(), "similarity_auroc": auc}
    assert [f for f in release_checks(stats) if f.startswith("similarity:")]


def test_similarity_auroc_is_none_without_both_labels():
    auc = similarity_auroc([cand("a", "train", "buggy")], {"a": REF})
    assert auc == {"train": None, "dev": None, "test": None, "all": None}


# -- task-only predictors -----------------------------------------------------------------------------

def test_balanced_tasks_give_task_prior_exactly_half():
    prior = task_prior_auroc(SUITE)
    assert prior == {"train": 0.5, "dev": 0.5, "test": 0.5, "all": 0.5}
    assert all(type(v) is float for v in prior.values())


def test_an_unbalanced_task_shows_in_the_task_prior():
    cands = balanced("t1", "train") + [cand("t2", "train", "buggy", n_failed=1) for _ in range(3)] + \
        [cand("t2", "train", "correct")]
    prior = task_prior_auroc(cands)
    assert prior["train"] is not None and prior["train"] > 0.5
    assert prior["dev"] is None and prior["test"] is None
    stats = {**good_stats(), "task_prior_auroc": prior}
    assert any(f.startswith("task_prior:") and "train" in f for f in release_checks(stats))


def test_prompt_length_auroc():
    cands = [cand("long", "test", "buggy") for _ in range(2)] + [cand("short", "test", "correct") for _ in range(2)]
    auc = prompt_length_auroc(cands, {"long": "x" * 100, "short": "x"})
    assert auc["test"] == 1.0 and auc["all"] == 1.0 and auc["train"] is None


# -- counts -------------------------------------------------------------------------------------------

def test_task_balance():
    cands = SUITE + [cand("t5", "dev", "buggy"), cand("t5", "dev", "correct")] + [cand("t5", "dev", "buggy")]
    bal = task_balance(cands)
    assert bal["train"] == {"tasks": 2, "balanced": 2, "min_per_label": 4, "max_per_label": 5}
    assert bal["dev"] == {"tasks": 2, "balanced": 1, "min_per_label": 1, "max_per_label": 4}
    assert task_balance([])["test"] == {"tasks": 0, "balanced": 0, "min_per_label": None, "max_per_label": None}


def test_origin_tables():
    cands = [cand("a", "train", "correct", origin="reference"),
             cand("a", "train", "buggy", origin="authored", family="logic", n_failed=1),
             cand("a", "train", "buggy", origin="authored", family="boundary", n_failed=3),
             cand("a", "train", "buggy", origin="authored", family="logic", n_failed=50),
             cand("a", "train", "correct", origin="authored"),
             cand("a", "train", "buggy", origin="mutation", family="constant", n_failed=2)]
    assert by_origin(cands) == {"reference": {"buggy": 0, "correct": 1}, "mutation": {"buggy": 1, "correct": 0},
                                "authored": {"buggy": 3, "correct": 1}}
    fams = families_by_origin(cands)
    assert list(fams) == ["mutation", "authored"] and list(fams["authored"].items()) == [("logic", 2), ("boundary", 1)]
    sub = subtlety_by_origin(cands)["authored"]
    assert sub["n"] == 3 and sub["single_input"] == 1
    assert sub["median_subtlety"] == 0.03 and sub["median_failing_inputs"] == 3
    assert sum(sub["buckets"].values()) == 3 and len(sub["buckets"]) == len(checks.SUBTLETY_BUCKETS)


def test_check_stats_is_json():
    refs = {f"t{i}": REF for i in range(1, 5)}
    prompts = {f"t{i}": "p" * i for i in range(1, 5)}
    stats = check_stats(SUITE, refs, prompts)
    assert json.loads(json.dumps(stats)) == stats
    assert stats["task_prior_auroc"]["all"] == 0.5


# -- release rules ------------------------------------------------------------------------------------

def test_good_stats_pass():
    assert release_checks(good_stats()) == []


BREAKS = {
    "task_balance": lambda s: s["task_balance"]["test"].update(balanced=89),
    "test_size": lambda s: s["by_split"]["test"].update(correct=299),
    "leakage": lambda s: s.update(leakage_auroc=0.5501),
    "similarity": lambda s: s["similarity_auroc"].update(test=0.3999),
    "task_prior": lambda s: s["task_prior_auroc"].update(train=0.5001),
    "authored": lambda s: s["by_origin"]["authored"].update(correct=163),
}


@pytest.mark.parametrize("rule", sorted(BREAKS))
def test_each_broken_rule_is_reported_by_name(rule):
    stats = copy.deepcopy(good_stats())
    BREAKS[rule](stats)
    fails = release_checks(stats)
    assert fails and all(f.startswith(rule + ":") for f in fails), fails


def test_every_rule_has_a_break_and_more_rules_break_together():
    assert set(BREAKS) == set(RELEASE_RULES)
    stats = copy.deepcopy(good_stats())
    stats["task_balance"]["train"]["min_per_label"] = 3
    stats["similarity_auroc"]["all"] = 0.61
    stats["leakage_auroc"] = None
    names = {f.split(":")[0] for f in release_checks(stats)}
    assert names == {"task_balance", "similarity", "leakage"}


def test_old_stats_fail_without_raising():
    v1 = json.loads((ROOT / "tasks/data/oversightbench-v1/manifest.json").read_text())["stats"]
    names = {f.split(":")[0] for f in release_checks(v1)}
    assert names == set(RELEASE_RULES)


# -- datasheet ----------------------------------------------------------------------------------------

def _datasheet(stats: dict) -> str:
    m = json.loads((ROOT / "tasks/data/oversightbench-v1/manifest.json").read_text())
    env = Environment(loader=FileSystemLoader(str(ROOT / "tasks/templates")), keep_trailing_newline=True)
    return env.get_template("datasheet.md.j2").render(name=m["name"], version=m["version"], stats=stats,
                                                      build=m["build"], humaneval=True, source_name="x")


V2_SECTIONS = ("## Candidates by origin", "## Bug families by origin", "## Subtlety by origin",
               "## Per-task balance", "## Release checks")


def test_datasheet_sections_only_for_v2_stats():
    v1 = json.loads((ROOT / "tasks/data/oversightbench-v1/manifest.json").read_text())["stats"]
    old = _datasheet(v1)
    assert not any(s in old for s in V2_SECTIONS) and "required ≤ 0.60" in old
    refs = {f"t{i}": REF for i in range(1, 5)}
    v2 = {**v1, **check_stats(SUITE, refs, {t: "p" for t in refs}),
          "mutation_score": {"killed": 90, "killable": 100, "score": 0.9, "found_by_search": 12},
          "single_input_bugs": 7}
    new = _datasheet(v2)
    assert all(s in new for s in V2_SECTIONS)
    assert f"required ≤ {checks.LEAKAGE_MAX:.2f}" in new
    assert f"[{1 - checks.SIMILARITY_BOUND:.2f}, {checks.SIMILARITY_BOUND:.2f}]" in new
    assert "90 of 100 killable mutants" in new and "12 shown killable" in new and "7 buggy candidate(s) fail only one hidden input" in new
    assert "| authored |" not in new and "| mutation | 17 | 0 | 17 |" in new


# -- README tables ------------------------------------------------------------------------------------

def _suite(tmp_path: Path, stats: dict) -> Path:
    d = tmp_path / "suite"
    d.mkdir()
    (d / "manifest.json").write_text(json.dumps({"name": "s", "version": "2", "stats": stats}))
    return d


def test_suite_tables_rewrite_between_markers(tmp_path, capsys):
    suite = _suite(tmp_path, good_stats())
    readme = tmp_path / "README.md"
    head, tail = "# Title\r\n\r\nintro\n", "\n\n## After\nkept ✓\n"
    readme.write_bytes((head + suite_tables.BEGIN + "\nstale table\n" + suite_tables.END + tail).encode())
    assert suite_tables.main([str(suite), "--readme", str(readme)]) == 0
    text = readme.read_bytes().decode()
    assert text.startswith(head + suite_tables.BEGIN + "\n") and text.endswith(suite_tables.END + tail)
    assert "stale table" not in text
    assert "| authored | 328 | 164 | 492 |" in text and "| test | 90 | 90 | 4 | 4 | 300 | 300 |" in text
    assert "**fail**" not in text and text.count("| pass |") == len(RELEASE_RULES)
    assert suite_tables.main([str(suite), "--readme", str(readme)]) == 0
    assert readme.read_bytes().decode() == text


def test_suite_tables_mark_failures(tmp_path):
    stats = good_stats()
    stats["leakage_auroc"] = 0.7
    readme = tmp_path / "README.md"
    readme.write_text(f"{suite_tables.BEGIN}\n{suite_tables.END}\n")
    assert suite_tables.main([str(_suite(tmp_path, stats)), "--readme", str(readme)]) == 0
    text = readme.read_text()
    assert "| leakage |" in text and "0.7000 | **fail** |" in text and "- leakage: leakage AUROC 0.7000" in text


def test_suite_tables_without_markers_print_and_exit_1(tmp_path, capsys):
    readme = tmp_path / "README.md"
    readme.write_text("# no markers\n")
    assert suite_tables.main([str(_suite(tmp_path, good_stats())), "--readme", str(readme)]) == 1
    out, err = capsys.readouterr()
    assert "### Release checks" in out and suite_tables.BEGIN in err and "add" in err
    assert readme.read_text() == "# no markers\n"


def test_datasheet_lists_release_problems():
    v1 = json.loads((ROOT / "tasks/data/oversightbench-v1/manifest.json").read_text())["stats"]
    base = {**v1, "task_prior_auroc": {"train": 0.5, "dev": 0.5, "test": 0.5, "all": 0.5}}
    assert "Every release rule holds." in _datasheet({**base, "release_problems": []})
    broken = _datasheet({**base, "release_problems": release_checks(base)})
    assert "Release rules broken:\n\n- task_balance:" in broken


def test_surface_probes_see_a_tell_and_are_none_without_both_labels():
    from tasks.checks import held_out_leakage, ngram_leakage_auroc, surface_scores

    def items(n, tag):
        return ([(f"def f{tag}{i}(x):\n    return x - 0 + {i}\n", "buggy") for i in range(n)]
                + [(f"def f{tag}{i}(x):\n    return abs(x) + {i}\n", "correct") for i in range(n)])

    train, test = items(20, "a"), items(10, "b")
    assert ngram_leakage_auroc(train, test) == 1.0
    held = held_out_leakage(train, test)
    assert held["char_ngram"] == 1.0 and held["ast_ngram"] == 1.0  # `- 0` adds a BinOp node: the tree sees it too
    only_buggy = [x for x in test if x[1] == "buggy"]
    assert ngram_leakage_auroc(train, only_buggy) is None
    assert held_out_leakage(train, only_buggy) == {"char_ngram": None, "ast_ngram": None}
    scores = surface_scores([(c, label, f"T/{i % 7}") for i, (c, label) in enumerate(train)])
    assert len(scores) == len(train) and all(0 <= s <= 1 for s in scores)
    assert min(s for s, (_, label) in zip(scores, train) if label == "buggy") > max(
        s for s, (_, label) in zip(scores, train) if label == "correct")


def test_suite_tables_summary_comes_from_the_manifest():
    m = json.loads((ROOT / "tasks/data/oversightbench-v2/manifest.json").read_text())
    text = suite_tables.summary(m)
    assert m["content_hash"] in text and f"{m['stats']['n_candidates']:,} candidates" in text
    assert "n/a candidates" in suite_tables.summary({"stats": {"n_candidates": "many"}})  # never raises on odd input
