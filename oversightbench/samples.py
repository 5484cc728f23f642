"""Samples: our candidates as Inspect samples, shown exactly what ``obench eval`` shows the reviewer.

One sample per candidate of a split, in ``obench eval``'s order (hash order, so ``limit`` takes the
same label-mixed subset). ``input`` is the rendered prompt ``obench eval`` sends (same template, same
file hash); ``target`` is the label; ``metadata`` names the task (the cluster of every CI) and the
candidate, and records the suite and prompt hashes.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from bench.prompts import PromptTemplate, load_prompt
from bench.reviewing.protocols import PROMPTS
from bench.reviewing.protocols.exec import judge_messages
from bench.runs.evaluate import review_request, select_items
from bench.runs.store import digest
from oversightbench.model import to_inspect_messages
from tasks.suite import CandidateRecord, Suite, load_suite


@functools.lru_cache(maxsize=4)
def _load(path: str | None) -> Suite:
    return load_suite(path)


def cached_suite(path: str | Path | None = None) -> Suite:
    """The suite at ``path`` (default: the committed one), loaded and hash-verified once per process.

    Raises:
        tasks.suite.SuiteError: missing or altered suite files.
    """
    return _load(str(path) if path else None)


def candidate(suite: Suite, candidate_id: str) -> CandidateRecord:
    """The candidate with this id.

    Raises:
        KeyError: not a candidate of the suite.
    """
    return _by_id(suite)[candidate_id]


@functools.lru_cache(maxsize=4)
def _by_id(suite: Suite) -> dict[str, CandidateRecord]:
    return {c.candidate_id: c for c in suite.candidates}


def exec_template() -> PromptTemplate:
    """The ``exec`` protocol's reviewer template (the one ``obench eval --protocol exec`` loads)."""
    return load_prompt(PROMPTS["exec"]["exec_judge"])


def suite_ref(suite: Suite) -> dict[str, Any]:
    """The suite as a run manifest records it."""
    return {"name": suite.manifest.name, "version": suite.manifest.version,
            "content_hash": suite.manifest.content_hash, "path": str(suite.path)}


def candidate_samples(suite: Suite, split: str, limit: int, protocol: str, prompt: PromptTemplate,
                      tool_calls: int = 0) -> list[Any]:
    """The Inspect samples of ``split`` (first ``limit`` in hash order; 0: all).

    ``direct``: the review prompt's messages. ``exec``: the first turn of the exec protocol (the
    solver renders every later turn itself, as ``obench eval`` does).

    Raises:
        bench.runs.evaluate.EvalError: an unknown split, or one with no candidates.
    """
    from inspect_ai.dataset import Sample

    out = []
    for c in select_items(suite, split, limit):
        req = review_request(suite, c)
        if protocol == "direct":
            messages = prompt.messages(req.prompt, req.entry_point, req.code)
        else:
            messages = judge_messages(prompt, suite.tasks[c.task_id], req, "", tool_calls)
        out.append(Sample(
            id=c.candidate_id, input=to_inspect_messages(messages), target=c.label,
            metadata={"task_id": c.task_id, "candidate_id": c.candidate_id, "entry_point": req.entry_point,
                      "split": split, "suite_content_hash": suite.manifest.content_hash,
                      "prompt": prompt.name, "prompt_sha256": prompt.sha256, "request_sha256": req.content_hash(),
                      "messages_sha256": digest(messages)}))
    return out
