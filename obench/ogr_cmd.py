"""``obench ogr``: the oversight gap a protocol recovers, with a bootstrap CI by task."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from obench.common import fail, out

OGR_METRICS = ("catch@5%fpr", "auroc")


def _label(run: Path) -> str:
    from bench.runs.rundir import load_manifest

    m = load_manifest(run)
    return f"{m.protocol}: {m.reviewer.get('spec')}" + (
        f" + {m.reviewer['strong']['spec']}" if isinstance(m.reviewer.get("strong"), dict) else "")


def ogr_plot(path: Path, runs: list[dict[str, Any]]) -> None:
    """Bars of OGR with 95% CI per protocol run and metric (undefined ones marked)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    fig, ax = plt.subplots(figsize=(6.4, 0.6 * len(runs) * len(OGR_METRICS) + 1.6), dpi=110)
    labels, vals, los, his, ys = [], [], [], [], []
    y = 0
    for r in runs:
        for m in OGR_METRICS:
            e = r[m]
            labels.append(f"{r['label']} · {m}")
            v = e["value"]
            vals.append(np.nan if v is None else v)
            los.append(0.0 if v is None else max(0.0, v - e["ci"][0]))
            his.append(0.0 if v is None else max(0.0, e["ci"][1] - v))
            ys.append(y)
            if v is None:
                ax.text(0.02, y, "undefined: no strong-weak gap", va="center", fontsize=7, color="#9a6700")
            y -= 1
    ax.barh(ys, np.nan_to_num(vals), color="#1f5fa8", alpha=0.8)
    ax.errorbar(np.nan_to_num(vals), ys, xerr=[los, his], fmt="none", ecolor="black", capsize=3, lw=1)
    ax.axvline(0, color="grey", lw=1)
    ax.axvline(1, color="grey", lw=1, ls=":")
    ax.set_yticks(ys)
    ax.set_yticklabels(labels, fontsize=7)
    ax.set_xlabel("oversight gap recovered (0 = weak direct, 1 = strong direct); 95% CI by task")
    ax.set_title("OGR by protocol", fontsize=9)
    fig.tight_layout()
    fig.savefig(path)
    fig.savefig(path.with_suffix(".svg"))
    plt.close(fig)


def ogr_cmd(
    weak_direct: Annotated[Path, typer.Option("--weak-direct", help="Run of the weak reviewer, protocol direct.")],
    strong_direct: Annotated[Path, typer.Option("--strong-direct", help="Run of the strong model, protocol direct.")],
    protocol_run: Annotated[list[Path], typer.Option("--protocol-run", help="Run(s) of a protocol (repeatable).")],
    out_dir: Annotated[Path, typer.Option("--out", help="Where to write ogr.json and ogr.png.")] = Path("runs/ogr"),
    n_boot: Annotated[int, typer.Option("--n-boot", min=100)] = 2000,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """OGR = (S_protocol - S_weak) / (S_strong - S_weak) for catch@5%fpr and AUROC, with 95% CIs by task."""
    from bench.metrics.scoring import oversight_gap_recovered
    from bench.runs.rundir import RunDirError, load_paired

    try:
        paired = load_paired([weak_direct, strong_direct, *protocol_run])
        labels = [_label(r) for r in protocol_run]
    except RunDirError as exc:
        fail(f"{exc}; OGR pairs the weak, strong and protocol runs item by item")
    weak, strong = ([p.item() for p in ps] for ps in paired[:2])
    runs = []
    for run, label, preds in zip(protocol_run, labels, paired[2:]):
        proto = [p.item() for p in preds]
        try:
            row: dict[str, Any] = {"run": str(run), "label": label}
            for m in OGR_METRICS:
                row[m] = oversight_gap_recovered(weak, strong, proto, metric=m, n_boot=n_boot, seed=seed)
        except ValueError as exc:
            fail(f"{run}: {exc}; evaluate all three runs on the same --split and --limit")
        runs.append(row)
    doc = {"weak_direct": str(weak_direct), "strong_direct": str(strong_direct), "n_boot": n_boot, "seed": seed,
           "runs": runs}
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "ogr.json").write_text(json.dumps(doc, indent=2) + "\n")
    ogr_plot(out_dir / "ogr.png", runs)
    if as_json:
        print(json.dumps(doc, indent=2))
        return
    table = Table(title=f"oversight gap recovered (weak = {weak_direct}, strong = {strong_direct})")
    for col in ("protocol run", "metric", "weak", "strong", "protocol", "OGR [95% CI]"):
        table.add_column(col)
    for r in runs:
        for m in OGR_METRICS:
            e = r[m]
            shown = (f"{e['value']:.3f} [{e['ci'][0]:.3f}, {e['ci'][1]:.3f}]" if e["value"] is not None
                     else f"undefined: {e['undefined']}")
            f = (lambda x: "n/a" if x is None else f"{x:.3f}")  # noqa: E731
            table.add_row(r["label"], m, f(e["weak"]), f(e["strong"]), f(e["protocol"]), shown)
    out.print(table)
    out.print(f"wrote {out_dir / 'ogr.json'} and {out_dir / 'ogr.png'}", highlight=False)
