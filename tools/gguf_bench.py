"""Throughput of the GGUF backend: batch 1 vs batched, against llama.cpp's own single-sequence loop.

The same review prompts (``review_direct.v1`` on the first N candidates of a split, greedy,
``max_new_tokens`` each) are run through

- ``llama.cpp single``: a plain ``Llama.create_chat_completion`` loop (llama-cpp-python's
  high-level API, one sequence at a time, its default settings; it reuses the KV cache of
  the prefix it shares with the previous prompt);
- ``gguf batch B``: :class:`bench.models.gguf.GGUFModel` with ``concurrency=B`` for each
  ``--batch`` (batch 1 is sequential), prefix cache on.

For each run: wall time, reviews/s, generated tokens/s, and the backend's own split into
prefill and decode (decode tok/s = generated tokens / time inside decode steps). The
outputs of every gguf batch size are compared with batch 1 (greedy: they must be equal).
Prints a Markdown table (``--json`` for the numbers)::

    python -m tools.gguf_bench --model smollm2-135m --model qwen2.5-coder-0.5b
    obench bench gguf --prompts 8 --max-new-tokens 128 --batch 1 --batch 4 --batch 8

Models are catalogue names (``obench models install NAME`` first) or paths to .gguf files.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any


def review_prompts(n: int, split: str = "test") -> list[list[dict[str, str]]]:
    """The direct review prompts of the first ``n`` candidates of ``split`` (in the eval's fixed order)."""
    from bench.prompts import load_prompt
    from bench.runs.evaluate import select_items
    from tasks.suite import load_suite

    suite, template = load_suite(), load_prompt()
    items = select_items(suite, split, n)
    return [template.messages(suite.tasks[c.task_id].prompt, suite.tasks[c.task_id].entry_point, c.code)
            for c in items]


def model_file(name: str) -> tuple[Path, str]:
    """(file, label) of a catalogue name or a .gguf path."""
    from bench.models.catalogue import CATALOGUE, require_installed

    if name in CATALOGUE:
        return require_installed(name), name
    path = Path(name).expanduser()
    if not path.is_file():
        raise SystemExit(f"no catalogue model or file {name!r}; known: {', '.join(CATALOGUE)}")
    return path, path.name


def _schema(structured: bool) -> dict[str, Any] | None:
    from bench.reviewing.schema import review_schema

    return review_schema() if structured else None


def run_llama_single(path: Path, prompts: list[list[dict[str, str]]], max_new_tokens: int,
                     n_threads: int, structured: bool = False) -> dict[str, Any]:
    """llama-cpp-python's own loop: ``Llama.create_chat_completion`` per prompt (``structured``: with
    ``response_format`` ``json_object`` + the review schema, its grammar-constrained decoding)."""
    import llama_cpp

    llm = llama_cpp.Llama(model_path=str(path), n_ctx=4096, n_threads=n_threads, n_threads_batch=n_threads,
                          seed=0, verbose=False)
    texts, n_in, n_out = [], 0, 0
    fmt: dict[str, Any] = {"response_format": {"type": "json_object", "schema": _schema(True)}} if structured else {}
    began = time.perf_counter()
    for messages in prompts:
        reply: Any = llm.create_chat_completion(messages=messages, max_tokens=max_new_tokens,  # type: ignore[arg-type]
                                                temperature=0.0, seed=0, **fmt)
        texts.append(reply["choices"][0]["message"]["content"] or "")
        n_in += reply["usage"]["prompt_tokens"]
        n_out += reply["usage"]["completion_tokens"]
    wall = time.perf_counter() - began
    llm.close()
    return {"config": "llama.cpp single", "batch": 1, "wall_s": wall, "input_tokens": n_in, "output_tokens": n_out,
            "texts": texts}


def run_gguf(path: Path, prompts: list[list[dict[str, str]]], max_new_tokens: int, batch: int,
             n_threads: int, structured: bool = False) -> dict[str, Any]:
    """The GGUF backend with ``concurrency=batch`` (``structured``: constrained to the review schema)."""
    from bench.models import GenerateConfig, ModelOptions
    from bench.models.gguf import GGUFModel

    model = GGUFModel(path, ModelOptions(concurrency=batch), n_threads=n_threads)
    began = time.perf_counter()
    out = dict(model.generate(prompts, GenerateConfig(max_new_tokens=max_new_tokens, json_schema=_schema(structured))))
    wall = time.perf_counter() - began
    stats = dict(model.stats)
    model.close()
    errors = [g.error for g in out.values() if g.error]
    if errors:
        raise SystemExit(f"gguf batch {batch}: {len(errors)} generations failed: {errors[0]}")
    return {"config": f"gguf batch {batch}", "batch": batch, "wall_s": wall,
            "input_tokens": sum(g.input_tokens for g in out.values()),
            "output_tokens": sum(g.output_tokens for g in out.values()),
            "prefill_s": stats.get("prefill_s", 0.0), "prefill_tokens": int(stats.get("prefill_tokens", 0)),
            "decode_s": stats.get("decode_s", 0.0), "decode_tokens": int(stats.get("decode_tokens", 0)),
            "prefix_tokens_reused": int(stats.get("prefix_tokens_reused", 0)),
            "texts": [out[i].text for i in range(len(prompts))]}


def measure(name: str, prompts: list[list[dict[str, str]]], max_new_tokens: int, batches: list[int],
            n_threads: int, log: Any = print, structured: bool = False) -> dict[str, Any]:
    """Every configuration on one model; rates, speed-ups and the batched == sequential check."""
    path, label = model_file(name)
    runs = []
    log(f"{label}: llama.cpp single ...")
    runs.append(run_llama_single(path, prompts, max_new_tokens, n_threads, structured))
    for b in batches:
        log(f"{label}: gguf batch {b} ...")
        runs.append(run_gguf(path, prompts, max_new_tokens, b, n_threads, structured))
    gguf = [r for r in runs if r["config"].startswith("gguf")]
    base = gguf[0]
    for r in runs:
        r["reviews_per_s"] = len(prompts) / r["wall_s"]
        r["tokens_per_s"] = r["output_tokens"] / r["wall_s"]
        if r.get("decode_s"):
            r["decode_tokens_per_s"] = r["decode_tokens"] / r["decode_s"]
        r["same_text_as_first_gguf"] = r["texts"] == base["texts"]
    best = max(gguf, key=lambda r: r["tokens_per_s"])
    single = runs[0]
    return {"model": label, "file": str(path), "prompts": len(prompts), "max_new_tokens": max_new_tokens,
            "n_threads": n_threads, "structured": structured, "runs": [{k: v for k, v in r.items() if k != "texts"} for r in runs],
            "best_batch": best["batch"], "speedup_best_vs_batch1": best["tokens_per_s"] / base["tokens_per_s"],
            "speedup_best_vs_llama_single": best["tokens_per_s"] / single["tokens_per_s"],
            "batched_equals_sequential": all(r["same_text_as_first_gguf"] for r in gguf)}


def markdown(results: list[dict[str, Any]]) -> str:
    """The results as one Markdown table (plus a line per model)."""
    lines = ["| model | run | wall s | reviews/s | gen tok/s | decode tok/s | prefill tok/s | vs batch 1 | same text |",
             "|---|---|---:|---:|---:|---:|---:|---:|---|"]
    for res in results:
        base = next(r for r in res["runs"] if r["config"].startswith("gguf"))
        for r in res["runs"]:
            dec = f"{r['decode_tokens_per_s']:.1f}" if r.get("decode_tokens_per_s") else ""
            pre = f"{r['prefill_tokens'] / r['prefill_s']:.0f}" if r.get("prefill_s") else ""
            same = ("yes" if r["same_text_as_first_gguf"] else "no") if r["config"].startswith("gguf") else (
                "yes" if r["same_text_as_first_gguf"] else "differs")
            best = " **(best)**" if r["config"] == f"gguf batch {res['best_batch']}" else ""
            lines.append(f"| {res['model']} | {r['config']}{best} | {r['wall_s']:.1f} | {r['reviews_per_s']:.2f} | "
                         f"{r['tokens_per_s']:.1f} | {dec} | {pre} | {r['tokens_per_s'] / base['tokens_per_s']:.2f}x "
                         f"| {same} |")
    out = "\n".join(lines)
    for res in results:
        out += (f"\n\n{res['model']}: {res['prompts']} review prompts x up to {res['max_new_tokens']} new tokens"
                f"{' (schema-constrained)' if res.get('structured') else ''}, "
                f"{res['n_threads']} threads; best batch {res['best_batch']}: "
                f"{res['speedup_best_vs_batch1']:.2f}x batch 1, {res['speedup_best_vs_llama_single']:.2f}x llama.cpp "
                f"single; batched == sequential: {'yes' if res['batched_equals_sequential'] else 'NO'}")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.gguf_bench", description=__doc__.split("\n")[0])
    parser.add_argument("--model", action="append", help="catalogue name or .gguf path; repeatable "
                        "(default: smollm2-135m and qwen2.5-coder-0.5b)")
    parser.add_argument("--prompts", type=int, default=8, help="review prompts (default 8)")
    parser.add_argument("--max-new-tokens", type=int, default=128)
    parser.add_argument("--batch", type=int, action="append", help="gguf batch sizes; repeatable (default 1, 4, 8)")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--split", default="test")
    parser.add_argument("--structured", action="store_true", help="constrain every reply to the review JSON schema "
                        "(llama.cpp single: response_format json_object + schema)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    batches = sorted(set(args.batch or [1, 4, 8]))
    if batches[0] != 1:
        batches.insert(0, 1)
    prompts = review_prompts(args.prompts, args.split)
    results = [measure(m, prompts, args.max_new_tokens, batches, args.threads,
                       log=lambda msg: print(msg, file=sys.stderr, flush=True), structured=args.structured)
               for m in (args.model or ["smollm2-135m", "qwen2.5-coder-0.5b"])]
    print(json.dumps(results, indent=2) if args.json else markdown(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
