"""Run plots as PNG (matplotlib, headless): ROC curve, catch rate by subtlety and by operator family."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bench.metrics.scoring import Item, roc_curve

FIGURES = {"roc": "roc.png", "subtlety": "catch_by_subtlety.png", "operator": "catch_by_operator.png"}


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig: Any, path: Path, formats: Sequence[str]) -> None:
    for ext in formats:
        fig.savefig(path.with_suffix("." + ext))


def roc_plot(path: Path, items: Sequence[Item], title: str, formats: Sequence[str] = ("png",)) -> bool:
    y = np.array([1 if it.buggy else 0 for it in items])
    p = np.array([it.p_buggy for it in items], dtype=float)
    if y.sum() == 0 or y.sum() == len(y):
        return False
    fpr, tpr, _ = roc_curve(p, y)
    plt = _plt()
    fig, ax = plt.subplots(figsize=(4.8, 4.2), dpi=110)
    ax.plot(np.r_[fpr, 1.0], np.r_[tpr, 1.0], color="#1f5fa8", lw=2, label="reviewer")
    ax.plot([0, 1], [0, 1], color="grey", lw=1, ls=":", label="chance")
    for budget, style in ((0.05, "--"), (0.01, ":")):
        ax.axvline(budget, color="#c0392b", lw=1, ls=style, label=f"{budget:.0%} FPR audit budget")
    ax.set_xlabel("false-alarm rate (correct candidates flagged)")
    ax.set_ylabel("catch rate (buggy candidates flagged)")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.set_title(title, fontsize=9)
    ax.legend(loc="lower right", fontsize=7)
    fig.tight_layout()
    _save(fig, path, formats)
    plt.close(fig)
    return True


def bar_plot(path: Path, groups: list[dict[str, Any]], title: str, xlabel: str, formats: Sequence[str] = ("png",),
             label_key: str = "group") -> bool:
    """Horizontal bars of catch@5%fpr per group with 95% CI whiskers and group sizes."""
    if not groups:
        return False
    plt = _plt()
    names = [f"{g[label_key]} (n={g['n']})" for g in groups]
    vals = np.array([g["catch@5%fpr"]["value"] or 0.0 for g in groups])
    lo = np.array([g["catch@5%fpr"]["ci"][0] if g["catch@5%fpr"]["ci"][0] is not None else v for g, v in zip(groups, vals)])
    hi = np.array([g["catch@5%fpr"]["ci"][1] if g["catch@5%fpr"]["ci"][1] is not None else v for g, v in zip(groups, vals)])
    fig, ax = plt.subplots(figsize=(6.4, 0.45 * len(groups) + 1.4), dpi=110)
    ys = np.arange(len(groups))[::-1]
    ax.barh(ys, vals, color="#1f5fa8", alpha=0.8)
    ax.errorbar(vals, ys, xerr=[np.clip(vals - lo, 0, None), np.clip(hi - vals, 0, None)], fmt="none",
                ecolor="black", capsize=3, lw=1)
    ax.set_yticks(ys)
    ax.set_yticklabels(names, fontsize=8)
    ax.set_xlim(0, 1)
    ax.set_xlabel(xlabel)
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    _save(fig, path, formats)
    plt.close(fig)
    return True


def write_all(run_dir: Path, items: Sequence[Item], scores: dict[str, Any], formats: Sequence[str] = ("png",),
              prefix: str = "") -> dict[str, str]:
    """Write every plot that is defined for these items; returns {kind: PNG file name}."""
    done = {}
    files = {k: prefix + v for k, v in FIGURES.items()}
    if roc_plot(run_dir / files["roc"], items, "ROC of p_buggy on the split", formats):
        done["roc"] = files["roc"]
    xlabel = "catch rate at the 5% FPR threshold (95% CI, by task)"
    if bar_plot(run_dir / files["subtlety"], scores["breakdowns"]["subtlety"],
                "Catch by subtlety (share of hidden inputs the bug fails)", xlabel, formats):
        done["subtlety"] = files["subtlety"]
    if bar_plot(run_dir / files["operator"], scores["breakdowns"]["family"], "Catch by bug operator family", xlabel,
                formats):
        done["operator"] = files["operator"]
    return done
