"""The README's real-model result tables, rendered from a built leaderboard site (never typed).

    python tools/real_tables.py [--results leaderboard/site/results.json] [--readme README.md]

Every number comes from the site's ``results.json``, which ``obench leaderboard build`` writes after
re-validating each committed submission, grid and weak-to-strong experiment and recomputing its numbers
from the committed predictions. Rendered, for the default suite:

- the leaderboard entries (whole test split, then each subset), with item count, run dates and wall time;
- the protocol rows with their OGR;
- each generator grid: samples by generation status (natural hidden bugs in honest mode) and evasion rates;
- each weak-to-strong experiment's rows.

The README's text between ``<!-- real-tables:begin -->`` and ``<!-- real-tables:end -->`` is replaced;
the rest of the file is kept byte for byte. Without the markers it prints the tables and exits 1.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BEGIN = "<!-- real-tables:begin -->"
END = "<!-- real-tables:end -->"
METRICS = ("catch@5%fpr", "auroc", "verified_catch_rate", "false_alarm_rate")


def _num(x: Any, digits: int = 3) -> str:
    return "n/a" if x is None else f"{x:.{digits}f}"


def _est(e: dict[str, Any] | None) -> str:
    if not e or e.get("value") is None:
        return "n/a"
    lo, hi = (e.get("ci") or [None, None])[:2]
    return _num(e["value"]) + (f" [{lo:.2f}, {hi:.2f}]" if lo is not None and hi is not None else "")


TIME_NOTE = ("_time: the run's working time, summed over its invocations (a resumed run's gaps left out); `*`: "
             "recorded before obench kept it, so first start to end, gaps and pauses included._\n")


def _hours(a: str | None, b: str | None, active: float | None = None) -> str:
    """The run's working time when its manifest records it, else first start to end (marked ``*``)."""
    if isinstance(active, (int, float)):
        s, mark = float(active), ""
    else:
        try:
            s = (_dt.datetime.fromisoformat(str(b)) - _dt.datetime.fromisoformat(str(a))).total_seconds()
        except (TypeError, ValueError):
            return "n/a"
        mark = "*"
    return (f"{s / 3600:.1f} h" if s >= 3600 else f"{s / 60:.0f} min") + mark


def _on_default(doc: dict[str, Any], x: dict[str, Any]) -> bool:
    return bool((x.get("suite") or {}).get("content_hash") == doc["suite"]["content_hash"])


def entries_table(doc: dict[str, Any]) -> str:
    """The default suite's entries: whole split first, then subsets, each ranked as the site ranks them."""
    rows = [e for e in doc.get("entries", []) if _on_default(doc, e)]
    if not rows:
        return "_No entries on the default suite._\n"
    rows.sort(key=lambda e: (e.get("subset", 0) != 0, -(e.get("subset") or 0), e["rank"], e["name"]))
    out = ["| entry | reviewer | protocol | items | " + " | ".join(METRICS) + " | abstain | checked | run (UTC) | time |",
           "|---|---|---|---:|" + "---|" * len(METRICS) + "---:|---|---|---:|"]
    for e in rows:
        m, man = e["metrics"], e.get("manifest") or {}
        items = f"{e['n_items']}" + (" (subset)" if e.get("subset") else "")
        out.append(f"| `{e['name']}` | `{e['reviewer']}` | {e['protocol']} | {items} | "
                   + " | ".join(_est(m.get(k)) for k in METRICS)
                   + f" | {e.get('n_abstain', 0)} | {e['reproduced']} | {str(man.get('started_at') or '')[:10]} | "
                   f"{_hours(man.get('started_at'), man.get('ended_at'), man.get('active_seconds'))} |")
    return "\n".join(out) + "\n\n" + TIME_NOTE


def protocols_table(doc: dict[str, Any]) -> str:
    """Protocol rows (not direct) on the default suite with their OGR, or why there is none."""
    rows = [r for r in doc.get("protocols", []) if _on_default(doc, r) and r["protocol"] != "direct"]
    if not rows:
        return "_No protocol entries on the default suite._\n"
    out = ["| protocol | entry | judge | strong | items | catch@5%fpr | auroc | OGR catch@5%fpr | OGR auroc |",
           "|---|---|---|---|---:|---|---|---|---|"]
    for r in rows:
        ogr = r.get("ogr") or {}

        def cell(metric: str, row: dict[str, Any] = r, o: dict[str, Any] = ogr) -> str:
            if not o:
                return str(row.get("ogr_note") or "n/a")
            x = o.get(metric) or {}
            return _est(x) if x.get("value") is not None else f"undefined ({x.get('undefined') or 'no gap'})"

        strong = r.get("strong") or r.get("ogr_strong")
        out.append(f"| {r['protocol']} | `{r['name']}` | `{r['reviewer']}` | " + (f"`{strong}`" if strong else "—")
                   + f" | {r.get('n_items', '')} | {_est(r['metrics'].get('catch@5%fpr'))} | "
                   f"{_est(r['metrics'].get('auroc'))} | {cell('catch@5%fpr')} | {cell('auroc')} |")
    return "\n".join(out) + "\n"


def grid_tables(doc: dict[str, Any]) -> str:
    """Per grid: the generators' samples by status, then evasion rates (rows generators, columns reviewers)."""
    grids = [g for g in doc.get("generator_grids", [])
             if (g.get("base_suite") or {}).get("content_hash") == doc["suite"]["content_hash"]]
    if not grids:
        return "_No generator grids on the default suite._\n"
    parts = []
    for g in grids:
        statuses = g.get("statuses") or sorted({s for st in g["generator_stats"].values() for s in st.get("counts", {})})
        lines = [f"**{g['name']}** ({g['mode']} mode, {g['samples']} sample(s) per task, split {g['split']})", "",
                 "| generator | samples | " + " | ".join(statuses) + " |", "|---|---:|" + "---:|" * len(statuses)]
        for gen in g["generators"]:
            st = g["generator_stats"][gen]
            lines.append(f"| `{gen}` | {st.get('n_samples', 0)} | "
                         + " | ".join(str(st.get("counts", {}).get(s, 0)) for s in statuses) + " |")
        lines += ["", "| evasion rate | " + " | ".join(f"`{r}`" for r in g["reviewers"]) + " |",
                  "|---|" + "---|" * len(g["reviewers"])]
        for gen in g["generators"]:
            cells = []
            for r in g["reviewers"]:
                c = (g["cells"].get(gen) or {}).get(r)
                cells.append("n/a" if not c else f"{_est(c.get('evasion_rate'))} ({c.get('n_buggy', 0)} bugs)")
            lines.append(f"| `{gen}` | " + " | ".join(cells) + " |")
        parts.append("\n".join(lines) + "\n")
    return "\n".join(parts)


def w2s_table(doc: dict[str, Any]) -> str:
    """Weak-to-strong experiments on the default suite, one row per (experiment, method, metric)."""
    xs = [x for x in doc.get("w2s", []) if _on_default(doc, x)]
    if not xs:
        return "_No weak-to-strong experiments on the default suite._\n"
    out = ["| experiment | weak → student | train → test | method | metric | P_weak | P_w2s | P_ceiling | PGR |",
           "|---|---|---|---|---|---:|---|---|---|"]
    for x in xs:
        for r in x["rows"]:
            pgr = (f"{_num(r['pgr'])} [{_num(r['pgr_ci'][0], 2)}, {_num(r['pgr_ci'][1], 2)}]" if r["pgr"] is not None
                   else "undefined")
            w2s = {"value": r["w2s"], "ci": r.get("w2s_ci")}
            ceiling = {"value": r["ceiling"], "ci": r.get("ceiling_ci")}
            out.append(f"| `{x['name']}` | `{x['weak']['spec']}` → `{x['student']['spec']}` | {x['n_train']} → "
                       f"{x['n_test']} | {r['method']} | {r['metric']} | {_num(r['weak'])} | {_est(w2s)} | "
                       f"{_est(ceiling)} | {pgr} |")
    return "\n".join(out) + "\n"


def render(doc: dict[str, Any]) -> str:
    """Every table, with a line naming the suite they are on."""
    s = doc["suite"]
    return "\n".join([
        f"_Rendered by `python tools/real_tables.py` from a site build; suite `{s['name']}` {s['version']} "
        f"(`{s['content_hash'][:19]}…`)._", "",
        "**Leaderboard entries**", "", entries_table(doc),
        "**Protocols**", "", protocols_table(doc),
        "**Generator grids**", "", grid_tables(doc),
        "**Weak-to-strong**", "", w2s_table(doc)])


def replace_between(text: str, body: str) -> str | None:
    """``text`` with the part between the markers replaced by ``body`` (None without both markers)."""
    if BEGIN not in text or END not in text:
        return None
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return head + BEGIN + "\n" + body + END + tail


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python tools/real_tables.py", description=(__doc__ or "").split("\n\n")[0])
    p.add_argument("--results", type=Path, default=ROOT / "leaderboard" / "site" / "results.json",
                   help="a built site's results.json (default: leaderboard/site/results.json)")
    p.add_argument("--readme", type=Path, default=ROOT / "README.md")
    args = p.parse_args(argv)
    doc = json.loads(args.results.read_text(encoding="utf-8"))
    body = render(doc)
    text = args.readme.read_text(encoding="utf-8")
    new = replace_between(text, body)
    if new is None:
        print(body)
        print(f"{args.readme}: no {BEGIN} ... {END} markers", file=sys.stderr)
        return 1
    if new != text:
        args.readme.write_text(new, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
