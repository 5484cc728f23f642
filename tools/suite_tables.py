"""Markdown tables of a suite's release statistics, written into a README between markers.

    python tools/suite_tables.py SUITE_DIR [--readme README.md]

Reads ``SUITE_DIR/manifest.json`` and renders: a summary (version, content hash, tasks kept and dropped,
candidates), candidates by origin and label, per-task
balance per split, and the v2 release checks (:func:`tasks.checks.release_checks`) with pass / fail.
The README's text between ``<!-- suite-tables:begin -->`` and ``<!-- suite-tables:end -->`` is
replaced; the rest of the file is kept byte for byte. Without the markers it prints the tables and
exits 1.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tasks.checks import RELEASE_RULES, release_checks  # noqa: E402

BEGIN = "<!-- suite-tables:begin -->"
END = "<!-- suite-tables:end -->"


def _auc(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.4f}"


def origin_table(stats: dict[str, Any]) -> str:
    """Candidates by origin × label (from ``by_origin``), with a total row."""
    by_origin = stats.get("by_origin")
    if not by_origin:
        return "_No `by_origin` in the manifest's stats (a suite built before v2)._\n"
    rows = ["| origin | buggy | correct | total |", "| --- | ---: | ---: | ---: |"]
    for origin, n in by_origin.items():
        rows.append(f"| {origin} | {n.get('buggy', 0)} | {n.get('correct', 0)} | {n.get('buggy', 0) + n.get('correct', 0)} |")
    bug = sum(n.get("buggy", 0) for n in by_origin.values())
    ok = sum(n.get("correct", 0) for n in by_origin.values())
    rows.append(f"| all | {bug} | {ok} | {bug + ok} |")
    return "\n".join(rows) + "\n"


def balance_table(stats: dict[str, Any]) -> str:
    """Per-task balance per split (from ``task_balance``), with each split's candidate counts."""
    balance = stats.get("task_balance")
    if not balance:
        return "_No `task_balance` in the manifest's stats (a suite built before v2)._\n"
    by_split = stats.get("by_split") or {}
    rows = ["| split | tasks | balanced | min per label | max per label | buggy | correct |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for sp, b in balance.items():
        counts = by_split.get(sp) or {}
        cells = [sp, b.get("tasks", 0), b.get("balanced", 0),
                 "n/a" if b.get("min_per_label") is None else b["min_per_label"],
                 "n/a" if b.get("max_per_label") is None else b["max_per_label"],
                 counts.get("buggy", "n/a"), counts.get("correct", "n/a")]
        rows.append("| " + " | ".join(str(c) for c in cells) + " |")
    return "\n".join(rows) + "\n"


def _measured(rule: str, stats: dict[str, Any]) -> str:
    """The values a rule looks at, short."""
    if rule == "task_balance":
        b = stats.get("task_balance") or {}
        return ", ".join(f"{sp} {v.get('balanced', 0)}/{v.get('tasks', 0)} balanced, min {v.get('min_per_label')}"
                         for sp, v in b.items() if v.get("tasks")) or "n/a"
    if rule == "test_size":
        t = (stats.get("by_split") or {}).get("test") or {}
        return str(t.get("buggy", 0) + t.get("correct", 0)) if t else "n/a"
    if rule == "leakage":
        held = stats.get("held_out_leakage_auroc") or {}
        probes = (f" (probes the surface filter never saw: char n-grams {_auc(held.get('char_ngram'))}, "
                  f"AST n-grams {_auc(held.get('ast_ngram'))})") if held else ""
        return _auc(stats.get("leakage_auroc")) + probes
    if rule in ("similarity", "task_prior"):
        values = stats.get(f"{rule}_auroc") or {}
        return ", ".join(f"{sp} {_auc(x)}" for sp, x in values.items()) or "n/a"
    if rule == "authored":
        a = (stats.get("by_origin") or {}).get("authored") or {}
        return f"{a.get('buggy', 0)} buggy, {a.get('correct', 0)} correct"
    return ""


def checks_table(stats: dict[str, Any]) -> str:
    """The release rules, each with what was measured and pass / fail; failures listed below."""
    fails = release_checks(stats)
    rows = ["| check | rule | measured | result |", "| --- | --- | --- | --- |"]
    for rule, text in RELEASE_RULES.items():
        ok = not any(f.startswith(rule + ":") for f in fails)
        rows.append(f"| {rule} | {text} | {_measured(rule, stats)} | {'pass' if ok else '**fail**'} |")
    out = "\n".join(rows) + "\n"
    if fails:
        out += "\nFailures:\n\n" + "".join(f"- {f}\n" for f in fails)
    return out


def _count(n: Any) -> str:
    return f"{n:,}" if isinstance(n, int) else "n/a"


def summary(manifest: dict[str, Any]) -> str:
    """One paragraph: name, version, content hash, tasks kept of the source's, candidates."""
    st = manifest.get("stats") or {}
    dropped = len(st.get("dropped_tasks") or {})
    source = st.get("n_source_tasks")
    kept = f"{st.get('n_tasks', 'n/a')} of {source} source tasks" if source else f"{st.get('n_tasks', 'n/a')} tasks"
    return (f"`{manifest.get('name', '?')}` {manifest.get('version', '?')}, content hash `{manifest.get('content_hash', '?')}`: "
            f"{kept} ({dropped} dropped, each with its reason in the manifest's `dropped_tasks`), "
            f"{_count(st.get('n_candidates'))} candidates ({_count(st.get('n_buggy'))} buggy, "
            f"{_count(st.get('n_correct'))} correct).\n\n")


def render_tables(stats: dict[str, Any], manifest: dict[str, Any] | None = None) -> str:
    """All tables as one markdown block (after the :func:`summary` of ``manifest``, when given)."""
    return ((summary(manifest) if manifest else "") + "### Candidates by origin\n\n" + origin_table(stats)
            + "\n### Per-task balance\n\n" + balance_table(stats)
            + "\n### Release checks\n\n" + checks_table(stats))


def replace_section(text: str, tables: str) -> str | None:
    """``text`` with the part between the markers replaced by ``tables``; None without both markers in order."""
    start = text.find(BEGIN)
    end = text.find(END, start + len(BEGIN)) if start >= 0 else -1
    if start < 0 or end < 0:
        return None
    return text[:start + len(BEGIN)] + "\n" + tables + text[end:]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write a suite's release tables into a README section.")
    parser.add_argument("suite_dir", type=Path, help="a suite directory (with manifest.json)")
    parser.add_argument("--readme", type=Path, default=Path("README.md"), help="the file to rewrite (default README.md)")
    args = parser.parse_args(argv)
    manifest = args.suite_dir / "manifest.json"
    if not manifest.exists():
        print(f"no manifest.json in {args.suite_dir}", file=sys.stderr)
        return 2
    doc = json.loads(manifest.read_text(encoding="utf-8"))
    tables = render_tables(doc.get("stats", {}), doc)
    text = args.readme.read_bytes().decode("utf-8") if args.readme.exists() else ""
    new = replace_section(text, tables)
    if new is None:
        print(tables, end="")
        print(f"{args.readme} has no section to rewrite: add the lines {BEGIN} and {END} where the tables "
              "belong, then run this again", file=sys.stderr)
        return 1
    if new != text:
        args.readme.write_bytes(new.encode("utf-8"))  # bytes: line endings stay as they were
    print(f"{args.readme}: suite tables {'updated' if new != text else 'unchanged'} from {manifest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
