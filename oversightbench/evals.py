"""The Inspect tasks ``oversightbench/review`` (protocol ``direct``) and ``oversightbench/exec``.

::

    inspect eval oversightbench/review --model <provider>/<model> -T split=test -T limit=40
    inspect eval oversightbench/exec --model <provider>/<model> -T tool_calls=3 [-T native_tools=true]

Task arguments: ``split`` (train | dev | test), ``limit`` (first N candidates in hash order, 0: all;
Inspect's own ``--limit N`` takes the same prefix), ``seed`` (decoding seed and bootstrap seed, as
``obench eval --seed``), ``suite`` (a suite directory; default the committed one), ``prompt``
(``review`` only: template name or ``.j2`` path). Decoding defaults to ``obench eval``'s (512 new
tokens, temperature 0, top_p 1, the seed); ``--max-tokens``, ``--temperature``... override it and are
recorded. One epoch: a run is one review per candidate.

What a run needs to become a run directory (``obench import-inspect LOG``) is recorded in the task's
metadata (``oversightbench``): protocol, split, limit, seed, suite hash, prompt name and sha256, the
items' hash, and the host and package versions the run used.
"""

from __future__ import annotations

import logging
from typing import Any

from inspect_ai import Task, task
from inspect_ai.dataset import MemoryDataset
from inspect_ai.model import GenerateConfig
from inspect_ai.solver import generate

from bench.models import GenerateConfig as OurGenerateConfig
from bench.prompts import DEFAULT_REVIEW_PROMPT, PromptTemplate, load_prompt
from bench.runs.evaluate import host_info, package_versions, select_items
from bench.runs.store import digest
from oversightbench.offline import OfflineTokensError, ensure_o200k_cache
from oversightbench.samples import cached_suite, candidate_samples, exec_template, suite_ref
from oversightbench.scoring import oversight_metrics, verified_review
from oversightbench.solvers import exec_protocol
from tasks.suite import Suite

logger = logging.getLogger(__name__)
METADATA_KEY = "oversightbench"
TASK_VERSION = 1
DEFAULTS = OurGenerateConfig()


def default_config(seed: int) -> GenerateConfig:
    """``obench eval``'s decoding defaults with the run's seed (command-line options override them)."""
    return GenerateConfig(max_tokens=DEFAULTS.max_new_tokens, temperature=DEFAULTS.temperature, top_p=DEFAULTS.top_p,
                          seed=seed)


def _offline_tokens() -> None:
    try:
        ensure_o200k_cache()
    except (OfflineTokensError, OSError) as exc:  # only token *estimates* need it (mockllm); say so, go on
        logger.warning("Inspect's token counting may need a download: %s", exc)


def run_metadata(suite: Suite, protocol: str, split: str, limit: int, seed: int, prompt: PromptTemplate,
                 **extra: Any) -> dict[str, Any]:
    """What ``obench import-inspect`` needs besides the samples (the task's metadata, under ``oversightbench``)."""
    items = select_items(suite, split, limit)
    return {METADATA_KEY: {
        "task_version": TASK_VERSION, "protocol": protocol, "split": split, "limit": limit, "seed": seed,
        "suite": suite_ref(suite), "prompt": {"name": prompt.name, "sha256": prompt.sha256},
        "n_items": len(items), "items_sha256": digest([c.candidate_id for c in items]),
        "host": host_info(), "packages": package_versions(), **extra}}


@task
def review(split: str = "test", limit: int = 0, seed: int = 0, suite: str | None = None,
           prompt: str = DEFAULT_REVIEW_PROMPT) -> Task:
    """OversightBench, protocol ``direct``: the model reviews each candidate once (verdict, p_buggy, lines, witness).

    Args:
        split: train | dev | test.
        limit: the first N candidates in hash order (0: all).
        seed: decoding and bootstrap seed.
        suite: suite directory or committed suite name (default: the committed oversightbench-v2).
        prompt: review prompt template name or .j2 path.
    """
    _offline_tokens()
    s = cached_suite(suite)
    template = load_prompt(prompt)
    return Task(
        dataset=MemoryDataset(candidate_samples(s, split, limit, "direct", template),
                              name=f"{s.manifest.name}-{s.manifest.version}-{split}"),
        solver=generate(),
        scorer=verified_review(suite=suite, split=split, limit=limit),
        metrics=oversight_metrics(seed),
        config=default_config(seed),
        epochs=1,
        version=TASK_VERSION,
        metadata=run_metadata(s, "direct", split, limit, seed, template),
    )


@task(name="exec")
def exec_task(split: str = "test", limit: int = 0, seed: int = 0, suite: str | None = None, tool_calls: int = 3,
              native_tools: bool = False) -> Task:
    """OversightBench, protocol ``exec``: the model may run the candidate in our Docker sandbox before reviewing.

    Args:
        split: train | dev | test.
        limit: the first N candidates in hash order (0: all).
        seed: decoding and bootstrap seed.
        suite: suite directory or committed suite name (default: the committed oversightbench-v2).
        tool_calls: runs the model may request per candidate.
        native_tools: also offer `run` as a native tool call (models with tool calling).
    """
    _offline_tokens()
    s = cached_suite(suite)
    template = exec_template()
    return Task(
        dataset=MemoryDataset(candidate_samples(s, split, limit, "exec", template, tool_calls),
                              name=f"{s.manifest.name}-{s.manifest.version}-{split}"),
        solver=exec_protocol(tool_calls=tool_calls, native_tools=native_tools, suite=suite, split=split, limit=limit),
        scorer=verified_review(suite=suite, split=split, limit=limit),
        metrics=oversight_metrics(seed),
        config=default_config(seed),
        epochs=1,
        version=TASK_VERSION,
        metadata=run_metadata(s, "exec", split, limit, seed, template, tool_calls=tool_calls,
                              native_tools=native_tools),
    )
