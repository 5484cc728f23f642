"""report.md, the weak / w2s / ceiling plot, and the compact summary for the leaderboard's w2s view."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.w2s.records import Est, W2SManifest, W2SResults

SUMMARY_SCHEMA_VERSION = 1
METRIC_LABELS = {"auroc": "AUROC", "catch@5%fpr": "catch@5%fpr"}


def _f(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.3f}"


def fmt(e: Est) -> str:
    """``value [lo, hi]`` (or ``value`` / ``n/a``)."""
    lo, hi = (e.ci + [None, None])[:2]
    if e.value is None:
        return "n/a"
    return f"{e.value:.3f} [{lo:.3f}, {hi:.3f}]" if lo is not None and hi is not None else f"{e.value:.3f}"


def fmt_pgr(e: Any) -> str:
    """A PGR cell: the value with its CI, or ``undefined``."""
    return "undefined" if e.value is None else fmt(e)


def write_plot(path: Path, res: W2SResults) -> None:
    """Bars of P_weak, P_w2s per method and P_ceiling (seed means, 95% CIs), one panel per metric."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    fig, axes = plt.subplots(1, len(res.metrics), figsize=(4.2 * len(res.metrics), 4.0), dpi=110, squeeze=False)
    for ax, metric in zip(axes[0], res.metrics):
        first = res.methods[0].mean[metric]
        bars: list[tuple[str, Est, str]] = [("weak", first.weak, "#9a6700")]
        bars += [(m.method, m.mean[metric].w2s, "#1f5fa8") for m in res.methods]
        bars += [("ceiling", first.ceiling, "#2f7d32")]
        xs = np.arange(len(bars))
        vals = np.array([np.nan if b.value is None else b.value for _, b, _ in bars], dtype=float)
        lo = [0.0 if b.value is None or b.ci[0] is None else max(0.0, b.value - b.ci[0]) for _, b, _ in bars]
        hi = [0.0 if b.value is None or b.ci[1] is None else max(0.0, b.ci[1] - b.value) for _, b, _ in bars]
        ax.bar(xs, np.nan_to_num(vals), color=[c for _, _, c in bars], alpha=0.85)
        ax.errorbar(xs, np.nan_to_num(vals), yerr=[lo, hi], fmt="none", ecolor="black", capsize=3, lw=1)
        for j, m in enumerate(res.methods, 1):
            pgr = m.mean[metric].pgr
            top = min(0.9, float(np.nan_to_num(vals[j])) + hi[j] + 0.02)
            ax.text(xs[j], top, "PGR\nundef." if pgr.value is None else f"PGR\n{pgr.value:+.2f}", ha="center",
                    va="bottom", fontsize=7)
        if metric == "auroc":
            ax.axhline(0.5, color="grey", lw=1, ls=":")
        ax.set_xticks(xs)
        ax.set_xticklabels([name for name, _, _ in bars], fontsize=8, rotation=15)
        ax.set_ylim(0, 1)
        ax.set_ylabel(METRIC_LABELS.get(metric, metric) + " on test (mean over seeds)")
    fig.suptitle(f"weak-to-strong: {res.weak_spec} -> {res.student} ({res.mode}, {res.student_input}), "
                 f"{len(res.seeds)} seed(s); "
                 "95% CIs", fontsize=9)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def render_report(res: W2SResults, man: W2SManifest) -> str:
    """The Markdown report of an experiment."""
    lines = [f"# Weak-to-strong: {res.weak_spec} → {res.student} ({res.mode}, {res.student_input})", ""]
    suite = man.suite
    lines += [f"- suite: {suite.get('name', '?')} {suite.get('version', '')} (`{suite.get('content_hash', '?')}`)",
              f"- weak supervisor: `{res.weak_spec}` ({man.weak.get('kind')}), labels hash `{man.weak.get('sha256')}`",
              f"- student: `{res.student}` reading {res.student_input}, {res.mode}, id `{man.student.get('id')}`",
              f"- methods: {', '.join(m.method for m in res.methods)}; seeds: {', '.join(map(str, res.seeds))}",
              f"- train: {res.n_train} candidates (weak labels); "
              f"test: {res.n_test} candidates, {res.n_test_tasks} tasks",
              "- hyperparameters: " + ", ".join(f"{k}={v}" for k, v in sorted(man.hyperparameters.items())),
              f"- command: `{' '.join(man.command)}`", ""]
    for note in man.data.get("notes", []):
        lines.append(f"> note: {note}")
    lines += ["", "PGR = (P_w2s − P_weak) / (P_ceiling − P_weak) on the test split. P_weak is the weak "
              "supervisor's own score (the floor); P_ceiling is the same student trained on the ground-truth labels.",
              ""]
    for metric in res.metrics:
        lines += [f"## {METRIC_LABELS.get(metric, metric)}", "",
                  "| method | P_weak | P_w2s (mean over seeds) | P_ceiling (mean over seeds) | gap | PGR | seed sd |",
                  "| --- | --- | --- | --- | --- | --- | --- |"]
        for m in res.methods:
            e = m.mean[metric]
            lines.append(f"| {m.method} | {fmt(e.weak)} | {fmt(e.w2s)} | {fmt(e.ceiling)} | {fmt(e.gap)} | "
                         f"{fmt_pgr(e.pgr)} | {_f(e.pgr_seed_sd)} |")
        undefined = [(m.method, m.mean[metric].pgr.undefined) for m in res.methods if m.mean[metric].pgr.undefined]
        lines.append("")
        for name, why in undefined:
            lines.append(f"- {name}: PGR undefined: {why}")
        lines += ["", "Per seed:", "", "| method | seed | P_w2s | P_ceiling | PGR |", "| --- | --- | --- | --- | --- |"]
        for m in res.methods:
            for s in m.seeds:
                lines.append(f"| {m.method} | {s.seed} | {fmt(s.w2s[metric])} | {fmt(s.ceiling[metric])} | "
                             f"{fmt_pgr(s.pgr[metric])} |")
        inter = [f"- bootstrap, seed {s.seed}: the intermediate student scores {fmt(s.intermediate[metric])}"
                 for m in res.methods for s in m.seeds if s.intermediate]
        lines += [""] + inter + ([""] if inter else [])
    lines += ["![weak / w2s / ceiling](w2s.png)", "", "## Methods", "",
              "- **naive**: cross-entropy against the weak soft labels.",
              "- **aux-conf**: Burns et al. (2023) auxiliary confidence loss: CE against "
              "(1 − α)·weak + α·hardened(student), hardened at the batch quantile matching the mean weak label; "
              f"α ramps linearly to {man.hyperparameters.get('alpha_max')} over the first "
              f"{man.hyperparameters.get('warmup_frac')} of the steps.",
              "- **bootstrap**: an intermediate probe on the first "
              f"{man.hyperparameters.get('bootstrap_dims')} principal components of the frozen embeddings, trained "
              f"on the weak labels with {man.hyperparameters.get('bootstrap_folds')}-fold cross-fitting by task; its "
              "out-of-fold predictions are the final student's labels.",
              "", "## Intervals", "", f"- P: {res.ci.get('P')}", f"- PGR: {res.ci.get('PGR')}",
              f"- {res.ci.get('n_boot')} bootstrap draws, seed {res.ci.get('seed')}, level {res.ci.get('level')}", ""]
    return "\n".join(lines)


def write_report(path: Path, res: W2SResults, man: W2SManifest) -> None:
    path.write_text(render_report(res, man), encoding="utf-8")


def leaderboard_summary(out: Path, results: W2SResults | None = None) -> dict[str, Any]:
    """A compact dict of an experiment for the leaderboard's w2s view.

    Shape::

        {"schema_version": 1, "kind": "w2s", "dir": str,
         "suite": {"name", "version", "content_hash"},
         "weak": {"spec", "kind", "sha256"},
         "student": {"spec", "mode", "input", "id"},
         "seeds": [int], "n_train": int, "n_test": int, "n_test_tasks": int,
         "metrics": ["auroc", "catch@5%fpr"],
         "rows": [{"method", "metric", "weak", "w2s", "w2s_ci", "ceiling", "ceiling_ci",
                   "gap", "gap_ci", "pgr", "pgr_ci", "pgr_seed_sd", "pgr_per_seed", "undefined"}],
         "ci": str, "created_at": str}

    One row per (method, metric); values are floats or None, intervals ``[lo, hi]``;
    ``pgr`` is None exactly when ``undefined`` holds the reason. ``results`` replaces the numbers of
    ``results.json`` (the leaderboard passes :func:`bench.w2s.experiment.recompute_results`).
    """
    from bench.w2s.experiment import load_results

    res, man = load_results(out)
    res = results if results is not None else res
    rows = []
    for m in res.methods:
        for metric in res.metrics:
            e = m.mean[metric]
            rows.append({"method": m.method, "metric": metric, "weak": e.weak.value, "w2s": e.w2s.value,
                         "w2s_ci": e.w2s.ci, "ceiling": e.ceiling.value, "ceiling_ci": e.ceiling.ci,
                         "gap": e.gap.value, "gap_ci": e.gap.ci, "pgr": e.pgr.value, "pgr_ci": e.pgr.ci,
                         "pgr_seed_sd": e.pgr_seed_sd, "pgr_per_seed": [s.pgr[metric].value for s in m.seeds],
                         "undefined": e.pgr.undefined})
    return {"schema_version": SUMMARY_SCHEMA_VERSION, "kind": "w2s", "dir": str(out),
            "suite": {k: man.suite.get(k) for k in ("name", "version", "content_hash")},
            "weak": {"spec": res.weak_spec, "kind": man.weak.get("kind"), "sha256": man.weak.get("sha256")},
            "student": {"spec": res.student, "mode": res.mode, "input": res.student_input, "id": man.student.get("id")},
            "seeds": res.seeds, "n_train": res.n_train, "n_test": res.n_test, "n_test_tasks": res.n_test_tasks,
            "metrics": res.metrics, "rows": rows, "ci": res.ci.get("PGR"), "created_at": man.started_at}
