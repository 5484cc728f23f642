"""Suite v2's per-task selection: balanced labels, and origins paired across labels (no Docker)."""

from __future__ import annotations

from collections import Counter

from tasks.build import PROFILES, BuildConfig, CandidateSpec, balance_per_task


class _Spec:
    def __init__(self, task_id: str) -> None:
        self.task_id = task_id


def _c(code: str, kind: str, label: str, base: str = "reference", base_code: str = "", family: str = "") -> CandidateSpec:
    return CandidateSpec("T/1", code, kind, (), family, label=label, base=base, base_code=base_code)


def _group() -> list[CandidateSpec]:
    rw = [_c(f"rw{i}", "rewrite", "correct") for i in range(4)]
    alt = [_c("alt0", "authored", "correct", "alternative")]
    alt_rw = [_c("altrw0", "rewrite", "correct", "alternative")]
    bugs = [_c(f"bug{i}", "authored", "buggy", "alternative", family="ordering") for i in range(3)]
    muts = [_c(f"m{i}", "mutation", "buggy", base_code=f"rw{i % 2}", family=f"f{i}") for i in range(6)]
    muts.append(_c("malt", "mutation", "buggy", "alternative", base_code="altrw0", family="fx"))
    return rw + alt + alt_rw + bugs + muts


def test_origins_are_paired_across_labels():
    cfg = PROFILES["v2"].config()
    assert cfg.match_origins and cfg.balance == "task"
    chosen, short = balance_per_task([_Spec("T/1")], _group(), cfg)
    assert short == {}
    labels = Counter(c.label for c in chosen)
    assert labels["buggy"] == labels["correct"] == 6
    by_label = {lab: Counter(c.kind for c in chosen if c.label == lab) for lab in ("buggy", "correct")}
    # one authored alternative exists, so one authored bug is paired with it; the rest pair mutants with rewrites
    assert by_label["buggy"]["authored"] >= 1 and by_label["correct"]["authored"] == 1
    muts = [c for c in chosen if c.kind == "mutation"]
    correct_codes = {c.code for c in chosen if c.label == "correct"}
    assert sum(1 for m in muts if m.base_code in correct_codes) >= 3  # mutants come with their own base
    assert by_label["buggy"]["mutation"] <= by_label["correct"]["rewrite"] + 1


def test_a_task_short_of_either_label_is_dropped_with_its_reason():
    group = [c for c in _group() if c.label == "correct"] + [_c("m0", "mutation", "buggy", base_code="rw0")]
    chosen, short = balance_per_task([_Spec("T/1")], group, PROFILES["v2"].config())
    assert chosen == [] and "1 buggy" in short["T/1"] and "at least 4" in short["T/1"]


def test_without_matching_the_bases_are_balanced_instead():
    cfg = BuildConfig(balance="task", min_per_label=4, max_buggy_per_task=6, max_correct_per_task=6)
    chosen, short = balance_per_task([_Spec("T/1")], _group(), cfg)
    assert short == {} and Counter(c.label for c in chosen) == Counter({"buggy": 6, "correct": 6})


# ---------------------------------------------------------------- the surface filter (v2)


def _surface_group(task: int, per_label: int) -> list[CandidateSpec]:
    """A task whose first buggy and first correct candidates carry a surface tell shared across tasks."""
    out = []
    for label in ("buggy", "correct"):
        for i in range(per_label):
            tell = ("x = x - 0\n" if label == "buggy" else "x = int(x)\n") if i == 0 else ""
            code = f"def f{task}(x):\n    {tell}    v{task}_{i} = x * {task * 10 + i}\n    return v{task}_{i}\n"
            out.append(CandidateSpec(f"T/{task}", code, "mutation" if label == "buggy" else "rewrite", (), "", label=label))
    return out


def test_surface_filter_drops_the_pairs_whose_surface_tells_the_label():
    from tasks.build import surface_filter

    chosen = [c for t in range(12) for c in _surface_group(t, 6 if t < 10 else 4)]
    cfg = PROFILES["v2"].config()
    kept, pairs = surface_filter(chosen, cfg)
    assert pairs == 10  # one pair from every task above 4 + 4; none from the two at exactly 4 + 4
    assert not any("- 0" in c.code or "int(x)" in c.code for c in kept if int(c.task_id[2:]) < 10)
    counts = Counter((c.task_id, c.label) for c in kept)
    assert all(counts[(f"T/{t}", "buggy")] == counts[(f"T/{t}", "correct")] >= 4 for t in range(12))
    assert [c for c in kept if int(c.task_id[2:]) >= 10] == [c for c in chosen if int(c.task_id[2:]) >= 10]
    assert surface_filter(chosen, cfg) == (kept, pairs)  # deterministic


def test_surface_filter_keeps_pairs_within_the_margin():
    from dataclasses import replace

    from tasks.build import surface_filter

    chosen = [c for t in range(12) for c in _surface_group(t, 6)]
    assert surface_filter(chosen, replace(PROFILES["v2"].config(), surface_filter_margin=1.0)) == (chosen, 0)
    assert surface_filter(chosen, replace(PROFILES["v2"].config(), surface_filter_rounds=0)) == (chosen, 0)
