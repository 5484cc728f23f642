"""Throughput benchmark of ``obench eval`` against a mock OpenAI-compatible server.

The server answers every request after a fixed latency, so the ideal rate is
``concurrency / latency`` reviews per second. Each run is a real ``obench eval``
subprocess with a fresh run store, Docker verification of witnesses included
(the mock reviewer gives a witness in about half of its reviews)::

    python -m tools.throughput                      # concurrency 8, 32, 64 at 200 ms
    python -m tools.throughput --concurrency 32 --json

The rate is measured over the review-and-verify phase (the manifest's
``timings.review_and_verify_s``: first request to last witness verified); start-up
(sandbox, gold self-check) and report rendering are shown separately.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from tools.mock_server import MODEL_ID, MockServer


def measure(concurrency: int, latency_s: float, split: str, limit: int) -> dict[str, Any]:
    """One fresh ``obench eval`` run against a mock server; returns rates and timings."""
    with MockServer(latency_s=latency_s) as server, tempfile.TemporaryDirectory(prefix="obench-tp-") as tmp:
        out = Path(tmp) / "run"
        cmd = [sys.executable, "-m", "obench", "eval", "--reviewer", f"openai:{MODEL_ID}", "--base-url",
               server.base_url, "--concurrency", str(concurrency), "--split", split, "--out", str(out),
               "--max-new-tokens", "256"]
        if limit:
            cmd += ["--limit", str(limit)]
        t0 = time.monotonic()
        res = subprocess.run(cmd, capture_output=True, text=True)
        wall = time.monotonic() - t0
        if res.returncode != 0:
            raise SystemExit(f"obench eval failed ({res.returncode}):\n{res.stderr[-3000:]}")
        manifest = json.loads((out / "manifest.json").read_text())
        stats = server.stats()
    n = manifest["counts"]["reviews"]
    phase = manifest["timings"]["review_and_verify_s"]
    ideal = concurrency / latency_s
    return {"concurrency": concurrency, "latency_s": latency_s, "reviews": n,
            "witnesses_run_in_docker": manifest["counts"]["witnesses"],
            "review_and_verify_s": phase, "rate": n / phase, "ideal_rate": ideal, "share_of_ideal": n / phase / ideal,
            "requests": stats["requests"], "max_in_flight": stats["max_in_flight"],
            "startup_s": manifest["timings"]["gold_check_s"],
            "score_and_report_s": manifest["timings"].get("score_and_report_s"), "command_wall_s": wall}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tools.throughput", description=__doc__.split("\n")[0])
    parser.add_argument("--concurrency", type=int, action="append", help="repeatable; default 8, 32, 64")
    parser.add_argument("--latency", type=float, default=0.2, help="server latency per request, seconds")
    parser.add_argument("--split", default="train", help="suite split (train has 794 candidates)")
    parser.add_argument("--limit", type=int, default=0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    rows = [measure(c, args.latency, args.split, args.limit) for c in (args.concurrency or [8, 32, 64])]
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    print("| concurrency | reviews | witnesses run in docker | review+verify s | reviews/s | ideal/s | share of ideal "
          "| max in flight | start-up s | report s |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['concurrency']} | {r['reviews']} | {r['witnesses_run_in_docker']} | "
              f"{r['review_and_verify_s']:.2f} | {r['rate']:.1f} | {r['ideal_rate']:.0f} | {r['share_of_ideal']:.1%} | "
              f"{r['max_in_flight']} | {r['startup_s']:.2f} | {r['score_and_report_s']:.2f} |")


if __name__ == "__main__":
    main()
