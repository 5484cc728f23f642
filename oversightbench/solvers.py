"""The ``exec`` protocol as an Inspect solver, and ``run``: our sandboxed run of a candidate as an Inspect tool.

:func:`exec_protocol` runs OversightBench's own ``exec`` reviewer (``bench.reviewing.protocols.exec``)
for the sample's candidate, with the model under evaluation (``--model``) as its judge: every turn is
rendered from the same template, every ``RUN:`` line (or native ``run`` tool call, with
``native_tools``) is parsed without evaluation, checked against the task's input contract and executed
on the candidate only, in our hardened Docker sandbox; the model sees the return value or exception,
never a reference answer. The protocol code is synchronous, so it runs on a worker thread and reaches
the model through :class:`ActiveModel`, which hops back onto Inspect's event loop for each turn (so
Inspect's retries, connection limits and transcript apply to every call). The finished review goes to
the sample's store for the scorer, and the turns to the sample's messages for the log viewer.

:func:`run_candidate` offers the same execution (same contract check, same sandbox, same messages) as
an Inspect tool named ``run`` for agents of your own.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from typing import Any

import anyio
from inspect_ai.model import ChatMessageAssistant, ChatMessageUser, ModelOutput, get_model
from inspect_ai.solver import Generate, Solver, TaskState, solver
from inspect_ai.tool import Tool, tool

from bench.models import GenerateConfig, Generation, Message
from bench.reviewing.protocols import Budgets
from bench.reviewing.protocols.exec import ExecReviewer
from bench.reviewing.reviewers import ReviewRequest
from bench.runs.evaluate import review_request, select_items
from oversightbench.execution import shared_harness
from oversightbench.model import (
    describe_inspect_model,
    generation_from_output,
    spec_for,
    to_inspect_messages,
    to_tool_infos,
)
from oversightbench.samples import cached_suite, candidate, exec_template
from oversightbench.scoring import REVIEW_KEY


class ActiveModel:
    """A :class:`bench.models.Model` backed by the Inspect model of the running sample.

    Called from a worker thread (started with ``anyio.to_thread``): each prompt is generated on
    Inspect's event loop with the sample's generate config (task config and command-line overrides);
    a request that still fails after Inspect's retries raises, which fails the sample (retried by
    ``inspect eval-retry``), as the ``direct`` task's ``generate()`` does.
    """

    supports_tools = True

    def __init__(self, model: Any) -> None:
        self.model = model

    @property
    def spec(self) -> str:
        return spec_for(str(self.model))

    def describe(self) -> dict[str, Any]:
        return describe_inspect_model(str(self.model), getattr(self.model.api, "base_url", None))

    def generate(self, prompts: Sequence[Sequence[Message]], config: GenerateConfig,
                 tools: list[dict[str, Any]] | None = None) -> Iterator[tuple[int, Generation]]:
        infos = to_tool_infos(tools)
        for i, messages in enumerate(prompts):
            call = functools.partial(self.model.generate, to_inspect_messages(messages), tools=infos)
            yield i, generation_from_output(anyio.from_thread.run(call))


def exec_reviewer(judge: Any, suite: Any, sandbox: Any, tool_calls: int, native_tools: bool) -> ExecReviewer:
    """OversightBench's exec reviewer with ``judge`` (its prompts are the ones ``obench eval`` loads)."""
    return ExecReviewer(judge, None, {"exec_judge": exec_template()}, GenerateConfig(), Budgets(tool_calls=tool_calls),
                        suite=suite, sandbox=sandbox, native_tools=native_tools)


def _viewer_messages(transcript: Sequence[dict[str, Any]]) -> list[Any]:
    """Protocol turns as chat messages for Inspect's log viewer (model turns as the assistant's)."""
    out: list[Any] = []
    for turn in transcript:
        text = turn.get("content") or ""
        if turn.get("role") == "sandbox":
            out.append(ChatMessageUser(content=f"[sandbox] {text}"))
        else:
            out.append(ChatMessageAssistant(content=text or "(no reply)"))
    return out


@solver
def exec_protocol(tool_calls: int = 3, native_tools: bool = False, suite: str | None = None, split: str = "test",
                  limit: int = 0, sandbox: str = "docker") -> Solver:
    """The ``exec`` protocol: the model may run the candidate ``tool_calls`` times in our sandbox, then reviews.

    Args:
        tool_calls: runs the model may request (``obench eval --tool-calls``).
        native_tools: also offer ``run`` as a native tool (``obench eval --native-tools``).
        suite: suite directory (default: the committed one).
        split: the run's split (its tasks are gold-checked before the first run).
        limit: the run's limit (likewise).
        sandbox: ``docker`` (the only backend offered).
    """
    harness = shared_harness(sandbox)

    async def solve(state: TaskState, generate: Generate) -> TaskState:
        s = cached_suite(suite)
        c = candidate(s, str(state.sample_id))
        model = get_model()
        gold_ids = [x.task_id for x in select_items(s, split, limit)]

        def work() -> Any:
            harness.gold_check(s, gold_ids)
            reviewer = exec_reviewer(ActiveModel(model), s, harness.sandbox, tool_calls, native_tools)
            return reviewer.review([review_request(s, c)])[0]

        review = await anyio.to_thread.run_sync(work)
        if review.error is not None:  # the protocol's own failure (e.g. no reply): fail the sample, retryable
            raise RuntimeError(f"exec protocol: {review.error}")
        state.store.set(REVIEW_KEY, review.model_dump())
        state.messages = list(state.messages) + _viewer_messages(review.transcript)
        state.output = ModelOutput.from_content(model=str(model), content=review.raw)
        return state

    return solve


class _RunOnce:
    """A scripted judge for :class:`ExecReviewer`: asks for exactly one run, then stops.

    It lets the tool reuse the protocol's one implementation of a run (parse, contract check,
    sandboxed execution, the message the model sees) instead of a second copy of it.
    """

    spec = "scripted:run-once"
    supports_tools = False

    def __init__(self, args: str) -> None:
        self.args = " ".join(args.split())  # a RUN line is one line
        self.turns = 0

    def describe(self) -> dict[str, Any]:
        return {"backend": "scripted"}

    def generate(self, prompts: Sequence[Sequence[Message]], config: GenerateConfig) -> Iterator[tuple[int, Generation]]:
        self.turns += 1
        for i in range(len(prompts)):
            yield i, Generation(text=f"RUN: {self.args}" if self.turns == 1 else "{}")


def run_in_sandbox(suite: Any, sandbox: Any, request: ReviewRequest, args: str) -> str:
    """What the ``exec`` protocol shows a model that asks to run ``request``'s candidate on ``args``:
    the return value or exception, or why nothing was run (unparseable input, contract violation)."""
    reviewer = exec_reviewer(_RunOnce(args), suite, sandbox, tool_calls=1, native_tools=False)
    review = reviewer.review([request])[0]
    shown = [t["content"] for t in review.transcript if t.get("role") == "sandbox"]
    return shown[0] if shown else "nothing was run"


@tool(name="run")
def run_candidate(candidate_id: str, suite: str | None = None, sandbox: str = "docker") -> Tool:
    """Our sandboxed run of one candidate as an Inspect tool (e.g. ``use_tools(run_candidate(cid))``).

    Args:
        candidate_id: the candidate the tool runs.
        suite: suite directory (default: the committed one).
        sandbox: ``docker`` (the only backend offered).
    """
    harness = shared_harness(sandbox)

    async def execute(args: str) -> str:
        """Run the candidate on one input in a sandbox; returns its return value or exception.

        Args:
            args: call arguments as a Python literal tuple, e.g. "(3, [1, 2])" or "('abc',)"
        """
        s = cached_suite(suite)
        request = review_request(s, candidate(s, candidate_id))
        return await anyio.to_thread.run_sync(lambda: run_in_sandbox(s, harness.sandbox, request, args))

    return execute
