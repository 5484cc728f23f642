"""``exec``: the weak reviewer may run the candidate on inputs of its choice before deciding.

With ``native_tools`` and an ``openai:`` judge, the same tool is also offered as a native
function (``run(args)``); its calls are turned into the same ``RUN:`` lines. Otherwise tool
use is a text protocol any chat model can follow: a reply whose line reads
``RUN: <Python literal tuple of call arguments>`` asks for one run. The input is parsed
without evaluation (``ast.literal_eval``), checked against the task's input contract
(a violating input is refused with a message the model sees), and executed on the
candidate only, in the sandbox; the model sees the return value or the exception,
never a reference answer. Every request counts against the ``tool_calls`` budget; a
reply without ``RUN:`` (or any reply once the budget is spent) is the final review.

With ``--structured`` every turn is one schema-constrained JSON object instead
(:func:`bench.reviewing.schema.exec_turn_schema`, prompt ``exec_judge_structured.v2``): its ``run``
field asks for a run, and a null ``run`` makes the object the final review; once the budget is
spent the reply is constrained to the review schema alone.

The prompts (version 2) show the run format on the task's own shortest visible example
(:func:`example_run`), which the candidate is known to pass, rather than on a fixed literal:
version 1's ``(3, [1, 2])`` broke most tasks' input contracts, and Qwen2.5-Coder-0.5B copied
it into every request, so every run was refused.

Replies are untrusted, so :func:`find_run` reads only the first ``MAX_REPLY_CHARS`` (100,000)
characters, line by line in linear time, and an input the harness could not take (see
:func:`bench.reviewing.parse.read_witness`: too long, too deep, a huge integer) is refused with
the reason, like a contract violation: the model sees the refusal and the episode goes on.
"""

from __future__ import annotations

from typing import Any

from bench.reviewing.parse import MAX_REPLY_CHARS, parse_witness, read_witness, run_request
from bench.reviewing.protocols import RUN_TOOL, Episode, ProtocolReviewer
from bench.reviewing.schema import exec_turn_schema

SHOWN_CHARS = 600
EXAMPLE_CHARS = 160
"""A visible example longer than this (as a tuple literal) is not shown as the run format."""


def find_run(text: str) -> str | None:
    """The argument text of the first ``RUN:`` line, or None.

    A ``RUN:`` line may be indented or wrapped in backticks; its arguments are the rest of the
    line, or the next non-blank line when ``RUN:`` ends its line. Linear in the text examined.
    """
    if not isinstance(text, str):
        return None
    lines = text[:MAX_REPLY_CHARS].split("\n")
    for i, line in enumerate(lines):
        rest = _after_run(line)
        if rest is None:
            continue
        if not rest:
            rest = next((_unticked(ln) for ln in lines[i + 1:] if _unticked(ln)), "")
        if rest:
            return rest
    return None


def _unticked(line: str) -> str:
    """``line`` without surrounding whitespace and backticks."""
    return line.strip().strip("`").strip()


def _after_run(line: str) -> str | None:
    """What follows ``RUN:`` on a ``RUN:`` line (backticks and whitespace trimmed), or None for another line."""
    s = line.lstrip().lstrip("`").lstrip()
    if not s.startswith("RUN"):
        return None
    s = s[3:].lstrip()
    return _unticked(s[1:]) if s.startswith(":") else None


def _shown(value: Any) -> str:
    try:
        text = repr(value)
    except Exception:  # noqa: BLE001 - e.g. an integer past the int-string limit
        return f"<a {type(value).__name__} that cannot be shown>"
    return text if len(text) <= SHOWN_CHARS else text[:SHOWN_CHARS] + f"... ({len(text)} characters)"


def example_run(task: Any) -> tuple[str, str]:
    """``(call, run)`` for the task's shortest visible example: the call as the docstring writes it
    (``f(3, [1, 2])``) and the same arguments as a run request (``(3, [1, 2])``).

    ``("", "")`` when the task has no visible example, none that round-trips as a Python literal, or
    none of at most :data:`EXAMPLE_CHARS` characters.
    """
    import ast

    best: tuple[Any, ...] | None = None
    best_text = ""
    try:
        examples = task.visible()
    except Exception:  # noqa: BLE001 - a task record that cannot give its examples shows none
        return "", ""
    for args, _ in examples:
        try:
            text = repr(tuple(args))
            if len(text) > EXAMPLE_CHARS or ast.literal_eval(text) != tuple(args):
                continue
        except Exception:  # noqa: BLE001 - a value without a literal repr (or one that will not compare)
            continue
        if best is None or len(text) < len(best_text):
            best, best_text = tuple(args), text
    if best is None:
        return "", ""
    inner = repr(best[0]) if len(best) == 1 else best_text[1:-1]
    return f"{task.entry_point}({inner})", best_text


def judge_messages(prompt: Any, task: Any, request: Any, transcript: str, calls_left: int) -> list[dict[str, str]]:
    """The exec judge's messages for one turn: ``prompt`` (a :class:`bench.prompts.PromptTemplate`) rendered for
    ``request`` with the runs so far, and the task's example run where the prompt version takes one. The one
    rendering of an exec turn: ``obench eval`` and the Inspect task both call it."""
    from bench.prompts import number_lines

    extra = example_run(task) if "example_run" in prompt.user_arguments else ()
    return prompt.render(request.prompt, request.entry_point, number_lines(request.code), transcript, calls_left,
                         *extra)


class ExecReviewer(ProtocolReviewer):
    """The weak reviewer with a sandboxed ``run(args)`` tool (``suite`` and ``sandbox`` given at creation)."""

    name = "exec"

    def __init__(self, *args: Any, suite: Any, sandbox: Any, native_tools: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.suite = suite
        self.sandbox = sandbox
        self.native_tools = native_tools and bool(getattr(self.judge, "supports_tools", False))

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "native_tools": self.native_tools}

    def run(self, episodes: list[Episode]) -> None:
        b = self.budgets
        for ep in episodes:
            ep.data["calls_left"] = b.tool_calls
        active = list(episodes)
        while active:
            replies: list[str | None] = [None] * len(active)
            # Structured: episodes with runs left answer the turn schema, the others the review schema.
            for left in ((True, False) if self.schema is not None else (None,)):
                group = [k for k, e in enumerate(active) if left is None or (e.data["calls_left"] > 0) == left]
                eps = [active[k] for k in group]
                tools = [RUN_TOOL] if self.native_tools and any(e.data["calls_left"] > 0 for e in eps) else None
                schema = None if left is None else (exec_turn_schema() if left else self.schema)
                got = self.ask(self.judge, eps, "reviewer", lambda e: judge_messages(
                    self.prompts["exec_judge"], self.suite.tasks[e.request.task_id], e.request,
                    e.shown(b.transcript_chars), e.data["calls_left"]), b.judge_max_new_tokens, tools=tools, schema=schema)
                for k, text in zip(group, got):
                    replies[k] = text
            runs: list[tuple[Episode, tuple[Any, ...]]] = []
            waiting: list[Episode] = []
            for ep, text in zip(active, replies):
                call = None if text is None else run_request(text) if self.schema is not None else find_run(text)
                if text is None or call is None or ep.data["calls_left"] <= 0:
                    self.finish(ep, text)
                    continue
                ep.data["calls_left"] -= 1
                ep.data["tool_calls"] = ep.data.get("tool_calls", 0) + 1
                refusal = self._refusal(ep, call)
                if refusal:
                    ep.add("sandbox", refusal, refused=True)
                    waiting.append(ep)
                else:
                    runs.append((ep, parse_witness(call) or ()))
            self._execute(runs)
            active = waiting + [ep for ep, _ in runs]

    def _refusal(self, ep: Episode, call: str) -> str | None:
        from tasks.contracts import check_inputs, contract_for

        parsed = read_witness(call)
        if parsed.status == "invalid_input":
            return f"refused: {call[:200]!r}: {parsed.reason}; nothing was run"
        args = parsed.args
        if args is None:
            run = example_run(self.suite.tasks[ep.request.task_id])[1]
            like = f"such as {run}" if run else "e.g. (3, [1, 2]) for f(3, [1, 2]) or ('abc',) for f('abc')"
            return f"refused: {call[:200]!r} is not a Python literal tuple of call arguments, {like}; nothing was run"
        contract = contract_for(self.suite.tasks[ep.request.task_id])
        if contract is not None and not contract.accepts(args):
            return f"refused: {call[:200]} violates the task's input contract ({contract.violation(args)}); nothing was run"
        if contract is not None and contract.needs_sandbox and not check_inputs(contract, [args], self.sandbox.run_calls)[0]:
            return f"refused: {call[:200]} violates the task's input contract ({contract.note}); nothing was run"
        return None

    def _execute(self, runs: list[tuple[Episode, tuple[Any, ...]]]) -> None:
        from harness.jobs import Limits
        from tasks.kinds import task_job

        if not runs:
            return
        memory_mb = min(256, self.sandbox.info().limits.memory_mb)
        jobs = []
        for ep, args in runs:
            task = self.suite.tasks[ep.request.task_id]
            jobs.append(task_job(task, ep.request.code, [args],
                                 limits=Limits(timeout_s=task.time_limit_s, memory_mb=memory_mb)))
        results = self.sandbox.run_calls(jobs)
        for (ep, args), res in zip(runs, results):
            r = res[0]
            call = f"{ep.request.entry_point}{_shown(args) if len(args) != 1 else '(' + _shown(args[0]) + ')'}"
            if r.infra:
                msg = f"{call}: the sandbox failed to run it (infrastructure); try again"
            elif r.status == "ok":
                msg = f"{call} returned {_shown(r.decoded)}"
            elif r.status == "error":
                err = r.error or {}
                msg = f"{call} raised {err.get('type')}: {str(err.get('message'))[:300]}"
            else:
                msg = f"{call} did not finish: {r.status}"
            ep.add("sandbox", msg)
