"""The static leaderboard site: validated submissions only, every number recomputed.

``build_site`` writes ``index.html`` (one sortable table per suite, vanilla JS, no CDN,
works from ``file://``), one page per entry, ``results.json`` / ``results.csv`` with every
number on the site, and matplotlib plots (PNG and SVG).

Entries are grouped by the suite they were evaluated on (its content hash): each suite has
its own table and its own ranks, scores from different suites are never ranked together.
The default suite (:data:`tasks.suite.DEFAULT_SUITE`) comes first; the header, the BibTeX
and ``results.json``'s ``suite`` describe it.
"""

from __future__ import annotations

import csv
import datetime as _dt
import io
import json
import re
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2

from bench.metrics.scoring import METRICS, PRIMARY
from bench.runs import plots
from leaderboard.submission import SUBMISSIONS_DIR
from leaderboard.validate import Validation, known_suites, printable, subset_size, validate_submission

TEMPLATES = Path(__file__).resolve().parent / "templates"
SITE_DIR = Path(__file__).resolve().parent / "site"
TABLE_METRICS = (PRIMARY, "auroc", "verified_catch_rate", "false_alarm_rate")
PROJECT_VERSION = "0.1.0"


GRIDS_DIR = Path(__file__).resolve().parent / "grids"
W2S_DIR = Path(__file__).resolve().parent / "w2s"


def load_w2s(root: Path, out: Path) -> tuple[list[dict[str, Any]], list[str]]:
    """Weak-to-strong experiments under ``root`` (``obench w2s`` output dirs), every number recomputed from the
    experiment's ``predictions.jsonl`` (:func:`bench.w2s.recompute_results`), with their plots copied to the site.
    An experiment that cannot be recomputed, or whose ``results.json`` claims other numbers, is rejected."""
    from bench.w2s import load_results, recompute_results
    from bench.w2s.report import leaderboard_summary

    found, rejected = [], []
    for d in sorted(p for p in Path(root).iterdir() if p.is_dir()) if Path(root).is_dir() else []:
        try:
            claimed, _ = load_results(d)
            results = recompute_results(d)
            summary = leaderboard_summary(d, results)
        except (OSError, ValueError, KeyError) as exc:
            rejected.append(f"{d.name}: {printable(str(exc), 300)}")
            continue
        if _rounded(results.model_dump()) != _rounded(claimed.model_dump()):
            bad = [f"{m.method} {k}" for m, c in zip(results.methods, claimed.methods) for k in results.metrics
                   if _rounded(m.mean[k].model_dump()) != _rounded(c.mean[k].model_dump())] \
                if len(results.methods) == len(claimed.methods) else []
            rejected.append(f"{d.name}: results.json claims other numbers than its predictions give"
                            + (f" ({', '.join(bad)})" if bad else ""))
            continue
        summary["name"] = d.name
        if (d / "w2s.png").exists():
            shutil.copyfile(d / "w2s.png", out / "plots" / f"w2s-{d.name}.png")
            summary["plot"] = f"plots/w2s-{d.name}.png"
        found.append(summary)
    return found, rejected


@dataclass
class SiteResult:
    """What a build produced: the entries shown, the submissions rejected, the generator grids."""

    out: Path
    entries: list[dict[str, Any]] = field(default_factory=list)
    rejected: list[Validation] = field(default_factory=list)
    grids: list[dict[str, Any]] = field(default_factory=list)
    rejected_grids: list[str] = field(default_factory=list)


def load_grids(root: Path, out: Path) -> tuple[list[dict[str, Any]], list[str]]:
    """Grids under ``root``, each cell recomputed from its stored predictions; a grid whose ``grid.json``
    claims other numbers than its predictions give is rejected. Heatmaps are drawn into ``out/plots``."""
    from bench.generation import STATUSES
    from bench.generation.grid import heatmap, recompute

    grids, rejected = [], []
    for d in sorted(p for p in Path(root).iterdir() if p.is_dir()) if Path(root).is_dir() else []:
        try:
            claimed = json.loads((d / "grid.json").read_text())
            doc = recompute(d)
        except (OSError, ValueError, KeyError) as exc:
            rejected.append(f"{d.name}: cannot be read ({type(exc).__name__}: {exc})")
            continue
        bad = [f"{g} × {r}" for g in doc["generators"] for r in doc["reviewers"]
               if _cell_value(doc, g, r) != _cell_value(claimed, g, r)]
        if bad:
            rejected.append(f"{d.name}: grid.json claims other evasion rates than its predictions give ({', '.join(bad)})")
            continue
        doc["name"] = d.name
        doc["statuses"] = list(STATUSES.get(doc.get("mode", ""), ()))
        heatmap(doc, out / "plots" / f"grid-{d.name}.png")
        doc["heatmap"] = f"plots/grid-{d.name}.png"
        grids.append(doc)
    return grids, rejected


def _rounded(x: Any, digits: int = 9) -> Any:
    """``x`` with every float rounded to ``digits`` places: recomputed and claimed numbers may differ in the last
    bits across machines (summation order), never in the ninth decimal."""
    if isinstance(x, float):
        return round(x, digits)
    if isinstance(x, dict):
        return {k: _rounded(v, digits) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_rounded(v, digits) for v in x]
    return x


def _cell_value(doc: dict[str, Any], g: str, r: str) -> float | None:
    cell = doc.get("cells", {}).get(g, {}).get(r)
    v = cell["evasion_rate"]["value"] if cell else None
    return None if v is None else _rounded(float(v))


def bibtex(suite: dict[str, Any]) -> str:
    """BibTeX for the benchmark, pinned to a suite version and content hash."""
    return (
        "@misc{oversightbench,\n"
        "  title        = {OversightBench: Scalable Oversight of Code, Decided by Sandboxed Execution},\n"
        "  author       = {{OversightBench developers}},\n"
        f"  year         = {{{_dt.date.today().year}}},\n"
        f"  version      = {{{PROJECT_VERSION}}},\n"
        f"  note         = {{Suite {suite['name']} version {suite['version']}, content hash {suite['content_hash']}}}\n"
        "}"
    )


def rank_entries(entries: list[dict[str, Any]], metric: str = PRIMARY) -> None:
    """Sort by ``metric`` and rank with ties shown: an entry's rank is 1 + the number of entries whose CI
    lies entirely above its own; entries sharing a rank are marked tied (their CIs overlap).

    ``entries`` must all be on one suite (:func:`group_by_suite` ranks each suite's entries apart)."""
    def val(e: dict[str, Any]) -> float:
        return e["metrics"][metric]["value"] or 0.0

    entries.sort(key=lambda e: (-val(e), e["name"]))
    for e in entries:
        lo, hi = e["metrics"][metric]["ci"]
        hi = hi if hi is not None else val(e)
        e["rank"] = 1 + sum(1 for o in entries if o is not e and (o["metrics"][metric]["ci"][0] or val(o)) > hi)
    counts: dict[int, int] = {}
    for e in entries:
        counts[e["rank"]] = counts.get(e["rank"], 0) + 1
    for e in entries:
        e["tied"] = counts[e["rank"]] > 1


def reproduction_status(v: Validation) -> str:
    """``reproduced`` when a consistent ``reproduced.json`` says every sampled reply was identical, else
    ``self-reported``."""
    return "reproduced" if v.reproduction is not None and v.reproduction.passed else "self-reported"


def _reproduction(v: Validation) -> dict[str, Any] | None:
    rec = v.reproduction
    if rec is None:
        return None
    return {"passed": rec.passed, "method": rec.method, "sample_size": len(rec.sample), "seed": rec.seed,
            "matches": len(rec.matches), "mismatches": [m.candidate_id for m in rec.mismatches],
            "reproduced_at": rec.reproduced_at, "code_version": rec.code_version}


def _entry(v: Validation) -> dict[str, Any]:
    assert v.metadata is not None and v.manifest is not None and v.view is not None and v.scores is not None
    meta, man, view = v.metadata, v.manifest, v.view
    # the suite validation loaded by the content hash (its version was checked against it; the name is taken
    # from the suite itself rather than from the submitted metadata)
    sm = v.suite.manifest if v.suite is not None else None
    model = view.reviewer.model or {}
    strong = view.reviewer.strong
    return {
        "reproduced": reproduction_status(v), "reproduction": _reproduction(v),
        "strong": strong.spec if strong else None, "ogr_strong": meta.ogr_strong, "budgets": view.reviewer.budgets,
        "name": meta.name, "org": meta.org, "paper": meta.paper, "open_weights": meta.open_weights,
        "reviewer": meta.reviewer, "protocol": meta.protocol, "split": meta.split, "date": meta.submitted_at,
        "n_items": v.scores["n_items"], "n_abstain": v.scores["n_abstain"], "n_errors": v.scores["n_errors"],
        "subset": subset_size(man.limit, len(v.suite.split(man.split))) if v.suite is not None else 0,
        "metrics": {m: v.scores[m] for m in METRICS}, "breakdowns": v.scores["breakdowns"],
        "witnesses_rerun": v.witnesses_rerun,
        "suite": ({"name": sm.name, "version": sm.version, "content_hash": sm.content_hash} if sm is not None else
                  {"name": meta.suite_name, "version": meta.suite_version, "content_hash": meta.suite_content_hash}),
        "manifest": {"image_tag": view.harness.image_tag, "image_digest": view.harness.image_digest,
                     "prompt": view.prompt.model_dump() if view.prompt else None, "decoding": man.decoding, "seeds": man.seeds, "packages": man.packages,
                     "model": model, "started_at": man.first_started_at, "ended_at": man.ended_at,
                     "active_seconds": man.active_seconds, "usage": man.usage, "command": " ".join(man.command)},
    }


def results_csv(entries: Sequence[dict[str, Any]]) -> str:
    """One row per entry (ranked within its suite and subset); every metric as value, CI low, CI high; then the
    suite's name and the subset size (0: the whole split), appended after the metrics so that the earlier columns
    keep their positions."""
    buf = io.StringIO()
    cols = ["rank", "tied", "name", "org", "reviewer", "protocol", "date", "open_weights", "paper", "n_items",
            "reproduced", "suite_version", "suite_content_hash"]
    for m in METRICS:
        cols += [m, f"{m}_ci_low", f"{m}_ci_high"]
    cols += ["suite_name", "subset"]
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(cols)
    for e in entries:
        row = [e["rank"], e["tied"], e["name"], e["org"], e["reviewer"], e["protocol"], e["date"], e["open_weights"],
               e["paper"] or "", e["n_items"], e["reproduced"], e["suite"]["version"], e["suite"]["content_hash"]]
        for m in METRICS:
            est = e["metrics"][m]
            row += [est["value"], est["ci"][0], est["ci"][1]]
        row += [e["suite"]["name"], e["subset"]]
        w.writerow(["" if x is None else x for x in row])
    return buf.getvalue()


def _fmt(x: Any, digits: int = 3) -> str:
    return "n/a" if x is None else f"{x:.{digits}f}"


def _env() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=jinja2.select_autoescape(["html", "j2"]),
                             undefined=jinja2.StrictUndefined)
    env.filters["num"] = _fmt
    env.filters["short_hash"] = short_hash
    env.filters["ci"] = lambda est: (f"[{_fmt(est['ci'][0])}, {_fmt(est['ci'][1])}]"
                                     if est["ci"][0] is not None else "")
    return env


def build_site(submissions: Path = SUBMISSIONS_DIR, out: Path = SITE_DIR, sandbox: Any = None,
               suites: dict[str, Path] | None = None, grids: Path = GRIDS_DIR, w2s: Path = W2S_DIR) -> SiteResult:
    """Validate every submission under ``submissions`` and render the valid ones into ``out``."""
    from bench.runs.rundir import Prediction

    result = SiteResult(Path(out))
    suites = suites if suites is not None else known_suites()
    valid: list[Validation] = []
    # symlinks too: validation rejects them with a message instead of following them
    dirs = sorted(p for p in Path(submissions).iterdir() if p.is_dir() or p.is_symlink()) \
        if Path(submissions).is_dir() else []
    for d in dirs:
        v = validate_submission(d, sandbox=sandbox, suites=suites)
        (valid if v.ok else result.rejected).append(v)
    if out.exists():
        shutil.rmtree(out)
    (out / "entries").mkdir(parents=True)
    (out / "plots").mkdir()
    shown = [_entry(v) for v in valid]
    default = default_suite(suites) or (shown[0]["suite"] if shown else _unknown_suite())
    groups = group_by_suite(shown, default)
    entries = [e for g in groups for e in g["entries"]]
    by_name = {v.metadata.name: v for v in valid if v.metadata is not None}
    for e in entries:
        preds: list[Prediction] = by_name[e["name"]].predictions
        e["figures"] = plots.write_all(out / "plots", [p.item() for p in preds], {"breakdowns": e["breakdowns"]},
                                       formats=("png", "svg"), prefix=f"{e['name']}-")
    for g in groups:  # one bar plot per suite: bars of different suites are not comparable
        bars = [{"label": e["name"], "n": e["n_items"], "catch@5%fpr": e["metrics"][PRIMARY]} for e in g["entries"]]
        name, title = (("overview", "catch@5%fpr by entry (95% CI, by task)") if g["default"] else
                       (f"overview-{g['short']}", f"catch@5%fpr by entry on {g['suite']['name']} "
                                                  f"{g['suite']['version']}"
                                                  + (f", first {g['subset']} test items" if g["subset"] else "")
                                                  + " (95% CI, by task)"))
        g["overview"] = (f"plots/{name}.png" if bars and plots.bar_plot(
            out / "plots" / f"{name}.png", bars, title, "catch rate at the 5% FPR threshold", ("png", "svg"),
            label_key="label") else None)
    overview = groups[0]["overview"]
    result.grids, result.rejected_grids = load_grids(grids, out)
    w2s_rows, rejected_w2s = load_w2s(w2s, out)
    protocol_rows = protocol_view(entries, {n: {p.candidate_id: p.item() for p in v.predictions}
                                            for n, v in by_name.items()},
                                  suite_order=[g["suite"]["content_hash"] for g in groups if not g["subset"]])
    protocol_groups = [{**{k: g[k] for k in ("suite", "default", "short")},
                        "rows": [r for r in protocol_rows if r["suite"]["content_hash"] == g["suite"]["content_hash"]]}
                       for g in groups if not g["subset"]]
    suite = default
    generated = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
    doc = {"schema_version": 1, "generated_at": generated, "suite": suite, "primary_metric": PRIMARY,
           "ranking": "rank = 1 + entries on the same suite and items whose 95% CI of the primary metric lies "
                      "entirely above this one's; entries on different suites, and subset entries (the first N test "
                      "items in hash order, subset N), are ranked apart",
           "suites": [{**g["suite"], "default": g["default"], "subset": g["subset"], "n_entries": len(g["entries"])}
                      for g in groups],
           "entries": [{k: v for k, v in e.items() if k != "figures"} for e in entries],
           "rejected": [{"path": printable(str(v.path)), "problems": [str(p) for p in v.problems]}
                        for v in result.rejected],
           "protocols": protocol_rows,
           "w2s": w2s_rows,
           "rejected_w2s": rejected_w2s,
           "generator_grids": [{k: v for k, v in g.items() if k != "heatmap"} for g in result.grids],
           "rejected_grids": result.rejected_grids}
    (out / "results.json").write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n")
    (out / "results.csv").write_text(results_csv(entries))
    env = _env()
    common = {"suite": suite, "generated": generated, "bibtex": bibtex(suite), "metrics": METRICS,
              "table_metrics": TABLE_METRICS, "primary": PRIMARY}
    (out / "index.html").write_text(env.get_template("index.html.j2").render(
        entries=entries, groups=groups, overview=overview, rejected=result.rejected, grids=result.grids, **common))
    (out / "w2s.html").write_text(env.get_template("w2s.html.j2").render(experiments=w2s_rows, rejected_w2s=rejected_w2s,
                                                                                      **common))
    (out / "protocols.html").write_text(env.get_template("protocols.html.j2").render(
        rows=protocol_rows, groups=protocol_groups, **common))
    (out / "generators.html").write_text(env.get_template("generators.html.j2").render(
        grids=result.grids, rejected_grids=result.rejected_grids, **common))
    for e in entries:
        # an entry's page cites the suite it was evaluated on
        (out / "entries" / f"{e['name']}.html").write_text(env.get_template("entry.html.j2").render(
            e=e, **{**common, "bibtex": bibtex(e["suite"])}))
    result.entries = entries
    return result


def protocol_view(entries: Sequence[dict[str, Any]], items: dict[str, dict[str, Any]],
                  suite_order: Sequence[str] = ()) -> list[dict[str, Any]]:
    """One row per entry, grouped by suite (in ``suite_order``, content hashes) then by protocol; OGR for protocol
    entries whose judge and strong model (for a protocol without one, such as exec: the ``ogr_strong`` reviewer its
    submitter named) both have direct entries on the board on the same suite that cover the entry's items
    (recomputed from the three entries' predictions on the protocol entry's items, CI by task).

    ``items`` maps each entry's name to its scored items by candidate id."""
    from bench.metrics.scoring import oversight_gap_recovered

    def on(e: dict[str, Any]) -> str:
        return str(e["suite"]["content_hash"])

    direct: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for e in sorted(entries, key=lambda e: (e["n_items"], e["name"])):  # the smallest run that covers the items
        if e["protocol"] == "direct":
            direct.setdefault((on(e), e["reviewer"]), []).append(e)
    elsewhere = {e["reviewer"] for e in entries if e["protocol"] == "direct"}

    def covering(e: dict[str, Any], reviewer: str) -> dict[str, Any] | None:
        ids = items[e["name"]].keys()
        return next((d for d in direct.get((on(e), reviewer), []) if ids <= items[d["name"]].keys()), None)

    order = {h: i for i, h in enumerate(suite_order)}
    rows = []
    for e in sorted(entries, key=lambda e: (order.get(on(e), len(order)), on(e), e["protocol"] != "direct",
                                            e["protocol"], -(e["metrics"][PRIMARY]["value"] or 0))):
        row = {"name": e["name"], "protocol": e["protocol"], "reviewer": e["reviewer"], "strong": e.get("strong"),
               "ogr_strong": e.get("ogr_strong"),
               "n_items": e["n_items"], "subset": e["subset"],
               "metrics": {m: e["metrics"][m] for m in (PRIMARY, "auroc")}, "ogr": None, "ogr_note": "",
               "suite": e["suite"]}
        if e["protocol"] != "direct":
            ref = e.get("strong") or e.get("ogr_strong") or ""  # exec has no strong model: the submitter names one
            weak, strong = covering(e, e["reviewer"]), covering(e, ref)
            if not ref:
                row["ogr_note"] = ("no strong reference: submit with `--ogr-strong SPEC` to compare with that "
                                   "reviewer's direct entry")
            elif weak is None or strong is None:
                missing = [s for s, x in ((e["reviewer"], weak), (ref, strong)) if x is None]
                row["ogr_note"] = "no direct entry of " + " and ".join(f"`{m}`" for m in missing) + (
                    " on this suite" + (" covering its items" if e["subset"] else "")
                    if any(m in elsewhere for m in missing) else "")
            else:
                ids = sorted(items[e["name"]])  # a subset entry is compared on its own items only
                w, st, pr = ([items[x["name"]][i] for i in ids] for x in (weak, strong, e))
                row["ogr"] = {m: oversight_gap_recovered(w, st, pr, metric=m, n_boot=1000) for m in (PRIMARY, "auroc")}
                row["ogr_from"] = {"weak": weak["name"], "strong": strong["name"]}
        rows.append(row)
    return rows


def short_hash(content_hash: str | None, n: int = 12) -> str:
    """The first ``n`` hex digits of a ``sha256:...`` content hash (for headings and ids)."""
    return str(content_hash or "").split(":", 1)[-1][:n]


def suite_ref(path: Path) -> dict[str, Any]:
    """Name, version and content hash of the suite directory ``path`` (from its manifest).

    Raises:
        OSError, ValueError, KeyError: no readable manifest.
    """
    m = json.loads((Path(path) / "manifest.json").read_text())
    return {"name": m["name"], "version": m["version"], "content_hash": m["content_hash"]}


def default_suite(suites: dict[str, Path]) -> dict[str, Any] | None:
    """The default suite, :data:`tasks.suite.DEFAULT_SUITE`: the one of ``suites`` (content hash -> directory, as
    :func:`~leaderboard.validate.known_suites` gives) that is the packaged directory of that name, else whose
    directory or manifest has that name; failing that the packaged directory's manifest even if it is not among
    ``suites``; None when there is none."""
    from tasks import suite as suite_mod

    name, packaged = suite_mod.DEFAULT_SUITE, suite_mod.DATA_DIR / suite_mod.DEFAULT_SUITE
    best: tuple[tuple[bool, bool, bool], dict[str, Any]] | None = None
    for d in suites.values():
        try:
            ref = suite_ref(d)
        except (OSError, ValueError, KeyError):
            continue
        score = (Path(d).resolve() == packaged.resolve(), Path(d).name == name, ref["name"] == name)
        if any(score) and (best is None or score > best[0]):
            best = (score, ref)
    if best is not None:
        return best[1]
    try:
        return suite_ref(packaged)
    except (OSError, ValueError, KeyError):
        return None


def _unknown_suite() -> dict[str, Any]:
    from tasks.suite import DEFAULT_SUITE

    return {"name": DEFAULT_SUITE, "version": "unknown", "content_hash": "unknown"}


def _version_key(version: str) -> tuple[tuple[int, int | str], ...]:
    """``2.0.0`` > ``1.10.0`` > ``1.9.1``; a non-numeric part sorts below a numeric one, and as text among its kind."""
    return tuple((1, int(p)) if p.isdigit() else (0, p) for p in re.split(r"[.\-+]", str(version)))


def group_by_suite(entries: Sequence[dict[str, Any]], default: dict[str, Any]) -> list[dict[str, Any]]:
    """Entries grouped by their suite's content hash and subset size, each group ranked on its own
    (:func:`rank_entries`): a subset entry (the first N test items, :func:`leaderboard.validate.subset_size`) is
    ranked only against entries on the same N items.

    The default suite's whole-split group comes first, present even when empty, then its subset groups (largest
    first); the other suites follow, newest version first, each whole split then subsets. Each group: ``suite``
    (name, version, content hash), ``default`` (the default suite's whole-split group), ``subset`` (0: the whole
    split), ``short`` (short hash, plus ``-nN`` for a subset, for ids), ``entries``."""
    dhash = str(default["content_hash"])
    by_key: dict[tuple[str, int], list[dict[str, Any]]] = {(dhash, 0): []}
    suites: dict[str, dict[str, Any]] = {dhash: default}
    for e in entries:
        h = str(e["suite"]["content_hash"])
        suites.setdefault(h, e["suite"])
        by_key.setdefault((h, int(e.get("subset") or 0)), []).append(e)
    order = sorted((h for h in suites if h != dhash), key=lambda h: (
        _version_key(suites[h]["version"]), str(suites[h]["name"]), h), reverse=True)
    groups: list[dict[str, Any]] = []
    for h in [dhash, *order]:
        for n in sorted((n for k, n in by_key if k == h), key=lambda n: (n != 0, -n)):
            groups.append({"suite": dict(suites[h]), "default": h == dhash and n == 0,
                           "subset": n, "short": short_hash(h) + (f"-n{n}" if n else ""), "entries": by_key[(h, n)]})
    for g in groups:
        rank_entries(g["entries"])
    return groups
