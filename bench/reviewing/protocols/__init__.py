"""Oversight protocols: how a weak overseer reviews, possibly helped by stronger models or the sandbox.

- ``direct``: the weak reviewer reads the task and the candidate and decides (``bench.reviewing.reviewers``).
- ``exec``: the weak reviewer may run the candidate on inputs of its choice (``RUN: (args)``
  lines, checked against the task's contract, executed in the sandbox) before deciding.
- ``critique``: a strong critic writes a critique; the weak judge reads candidate + critique.
- ``consultancy``: one strong consultant argues an assigned side (buggy / correct, half the
  time each) for R rounds, the judge asking a question after each but the last; the weak judge decides.
- ``debate``: two strong debaters argue opposite sides for R rounds; the weak judge decides.

A protocol is a :class:`bench.reviewing.reviewers.Reviewer`: ``obench eval --protocol NAME --reviewer WEAK
[--strong STRONG]`` scores it like any reviewer. Each review carries its transcript (every turn,
with token counts), stored in the predictions. Model calls run in lockstep across candidates
(one batched/concurrent ``generate`` per turn), so protocols keep the backends' throughput.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from bench.models import GenerateConfig, Model
from bench.prompts import PromptTemplate, number_lines
from bench.reviewing.parse import Review, clean_text, parse_review
from bench.reviewing.reviewers import ReviewRequest

PROTOCOLS = {
    "direct": "the weak reviewer reads the task and the candidate and answers once",
    "exec": "the weak reviewer may run the candidate on inputs of its choice in the sandbox first",
    "critique": "a strong critic writes a critique; the weak judge decides",
    "consultancy": "a strong consultant argues an assigned side for R rounds; the weak judge decides",
    "debate": "two strong debaters argue opposite sides for R rounds; the weak judge decides",
}
NEEDS_STRONG = ("critique", "consultancy", "debate")


class ProtocolError(ValueError):
    """A protocol that cannot be set up as asked."""


@dataclass(frozen=True)
class Budgets:
    """Turn and token budgets (recorded in the run manifest).

    Attributes:
        rounds: debate / consultancy rounds (R).
        tool_calls: ``exec`` runs the reviewer may request (N).
        strong_max_new_tokens: per strong-model turn.
        judge_max_new_tokens: per judge turn.
        transcript_chars: the transcript shown to a model is cut to its last this many characters.
    """

    rounds: int = 2
    tool_calls: int = 3
    strong_max_new_tokens: int = 384
    judge_max_new_tokens: int = 512
    transcript_chars: int = 12000

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Episode:
    """One candidate going through a protocol."""

    request: ReviewRequest
    transcript: list[dict[str, Any]] = field(default_factory=list)
    review: Review | None = None
    side: str = ""
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def done(self) -> bool:
        return self.review is not None

    def shown(self, limit: int) -> str:
        """The transcript as text for the next prompt (the last ``limit`` characters)."""
        text = "\n\n".join(f"[{t['role']}] {t['content'].strip()}" for t in self.transcript)
        return text if len(text) <= limit else "...\n" + text[-limit:]

    def add(self, role: str, content: str, **extra: Any) -> None:
        """Append a turn. Model replies and run outputs are untrusted text: lone surrogates (which no UTF-8 file
        can hold) become U+FFFD here, so the transcript can always be stored and shown in the next prompt."""
        self.transcript.append({"role": role, "content": clean_text(content),
                                **{k: clean_text(v) if isinstance(v, str) else v for k, v in extra.items()}})


RUN_TOOL = {
    "type": "function",
    "function": {
        "name": "run",
        "description": "Run the candidate on one input in a sandbox; returns its return value or exception.",
        "parameters": {
            "type": "object",
            "properties": {"args": {"type": "string", "description": "call arguments as a Python literal tuple, "
                                                                   "e.g. \"(3, [1, 2])\" or \"('abc',)\""}},
            "required": ["args"],
        },
    },
}


def _tool_args(arguments: Any) -> str:
    """The ``args`` string of a native ``run`` call (its JSON arguments), tolerant of shapes."""
    import json

    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments)
        except json.JSONDecodeError:
            return arguments.strip()
    if isinstance(arguments, dict):
        value = arguments.get("args", "")
        return value if isinstance(value, str) else repr(tuple(value) if isinstance(value, list) else value)
    return str(arguments)


def side_for(candidate_id: str, seed: int) -> str:
    """A consultant's assigned side: ``buggy`` or ``correct``, half the time each, fixed per candidate and seed."""
    return "buggy" if int(hashlib.sha256(f"{seed}:{candidate_id}".encode()).hexdigest(), 16) % 2 == 0 else "correct"


class ProtocolReviewer:
    """Base of the multi-turn protocols: a weak judge, optionally a strong model, budgets and prompts."""

    name = ""

    def __init__(self, judge: Model, strong: Model | None, prompts: dict[str, PromptTemplate], generate: GenerateConfig,
                 budgets: Budgets) -> None:
        self.judge = judge
        self.strong = strong
        self.prompts = prompts
        self.generate = generate  # as recorded in the manifest
        #: structured output (``--structured``): the schema of the judge's final turn; other turns are free text
        self.schema = generate.json_schema
        self.budgets = budgets

    @property
    def spec(self) -> str:
        return self.judge.spec

    def describe(self) -> dict[str, Any]:
        return {"spec": self.judge.spec, "protocol": self.name, "model": self.judge.describe(),
                "strong": None if self.strong is None else {"spec": self.strong.spec, "model": self.strong.describe()},
                "prompts": {k: {"name": p.name, "sha256": p.sha256} for k, p in sorted(self.prompts.items())},
                "decoding": self.generate.to_json(), "budgets": self.budgets.to_json()}

    # -- running turns in lockstep ------------------------------------------------------------

    def ask(self, model: Model, episodes: Sequence[Episode], role: str | Callable[[Episode], str],
            messages: Callable[[Episode], list[dict[str, str]]], max_new_tokens: int,
            tools: list[dict[str, Any]] | None = None, schema: dict[str, Any] | None = None) -> list[str | None]:
        """One turn for every episode: returns each reply (None when the request failed, recorded as such).

        ``schema`` constrains the replies (structured output); None leaves them free text.

        With ``tools`` and a backend that supports native tool calling, a ``run`` tool call comes
        back as the text line ``RUN: <args>`` (marked ``native_tool_call`` in the transcript).
        """
        if not episodes:
            return []
        cfg = replace(self.generate, max_new_tokens=max_new_tokens, json_schema=schema)
        out: list[str | None] = [None] * len(episodes)
        native = bool(tools) and getattr(model, "supports_tools", False)
        stream = (model.generate([messages(e) for e in episodes], cfg, tools=tools) if native  # type: ignore[call-arg]
                  else model.generate([messages(e) for e in episodes], cfg))
        for i, g in stream:
            ep = episodes[i]
            name = role(ep) if callable(role) else role
            calls = [c for c in g.extra.get("tool_calls", []) if c.get("name") == "run"]
            if g.error is None and calls:
                args = _tool_args(calls[0].get("arguments"))
                ep.add(name, (g.text + "\n" if g.text else "") + f"RUN: {args}", native_tool_call=True,
                       input_tokens=g.input_tokens, output_tokens=g.output_tokens)
                out[i] = ep.transcript[-1]["content"]
                continue
            if g.error is not None:
                ep.add(name, "", error=g.error, input_tokens=g.input_tokens, output_tokens=g.output_tokens)
                ep.data.setdefault("errors", []).append(f"{name}: {g.error}")
            else:
                ep.add(name, g.text, input_tokens=g.input_tokens, output_tokens=g.output_tokens)
                out[i] = g.text
        return out

    def code_view(self, ep: Episode) -> tuple[str, str, str]:
        r = ep.request
        return r.prompt, r.entry_point, number_lines(r.code)

    def finish(self, ep: Episode, text: str | None) -> None:
        """Parse the judge's final reply into the episode's review (with the transcript and token totals)."""
        errors = ep.data.get("errors", [])
        if text is None:
            review = Review.failed("; ".join(errors) or "the judge gave no reply")
        else:
            review = parse_review(text)
            if errors:  # a failed strong turn makes the whole episode retryable
                review = review.model_copy(update={"error": "; ".join(errors)})
        ep.review = review.model_copy(update={
            "transcript": list(ep.transcript),
            "input_tokens": sum(int(t.get("input_tokens", 0)) for t in ep.transcript),
            "output_tokens": sum(int(t.get("output_tokens", 0)) for t in ep.transcript),
        })

    def run(self, episodes: list[Episode]) -> None:
        """Drive every episode to a review (implemented by each protocol)."""
        raise NotImplementedError

    def stream(self, requests: Sequence[ReviewRequest], chunk: int = 16) -> Iterator[tuple[int, Review]]:
        """Reviews in chunks of candidates (each chunk runs its turns in lockstep).

        A chunk's reviews reach the run store when the chunk ends, so ``chunk`` is also how much work an
        interrupted run can lose; 16 keeps a batch of 8 sequences full on every turn.
        """
        for start in range(0, len(requests), chunk):
            eps = [self.new_episode(r) for r in requests[start : start + chunk]]
            self.run(eps)
            for k, ep in enumerate(eps):
                yield start + k, ep.review or Review.failed("protocol ended without a review")

    def new_episode(self, request: ReviewRequest) -> Episode:
        return Episode(request)

    def review(self, requests: Sequence[ReviewRequest]) -> list[Review]:
        out = dict(self.stream(requests))
        return [out[i] for i in range(len(requests))]


PROMPTS = {
    "exec": {"exec_judge": "exec_judge.v2"},
    "critique": {"critic": "critic.v1", "judge_final": "judge_final.v1"},
    "consultancy": {"debater": "debater.v1", "judge_question": "judge_question.v1", "judge_final": "judge_final.v1"},
    "debate": {"debater": "debater.v1", "judge_final": "judge_final.v1"},
}
STRUCTURED_EXEC_PROMPT = "exec_judge_structured.v2"
"""``exec``'s prompt under ``--structured``: every turn is one JSON object whose ``run`` asks for a run."""


def create_protocol_reviewer(protocol: str, judge_spec: str, strong_spec: str | None, *, model_options: Any,
                             generate: GenerateConfig, budgets: Budgets, suite: Any = None, sandbox: Any = None,
                             native_tools: bool = False) -> Any:
    """The reviewer running ``protocol`` with the weak ``judge_spec`` (and ``strong_spec`` where needed).

    Raises:
        ProtocolError: unknown protocol, a missing or superfluous ``--strong``, a judge that is not a
            model, bad budgets, or a model that cannot be created (with the reason).
    """
    from bench.models import UnknownModel, create_model, is_model_spec
    from bench.prompts import UnknownPrompt, load_prompt

    if protocol not in PROTOCOLS or protocol == "direct":
        raise ProtocolError(f"unknown protocol {protocol!r}; known: {', '.join(PROTOCOLS)}")
    if protocol in NEEDS_STRONG and not strong_spec:
        raise ProtocolError(f"protocol {protocol!r} needs a strong model: pass --strong hf:<path> or openai:<model>")
    if protocol not in NEEDS_STRONG and strong_spec:
        raise ProtocolError(f"protocol {protocol!r} uses no strong model; drop --strong")
    for spec, what in ((judge_spec, "--reviewer"), (strong_spec, "--strong")):
        if spec and not is_model_spec(spec):
            raise ProtocolError(f"{what} {spec!r}: protocols need model specs (hf:<path> or openai:<model>); the "
                                "built-in baselines only run the direct protocol")
    if budgets.rounds < 1 or budgets.tool_calls < 0:
        raise ProtocolError(f"--rounds must be >= 1 and --tool-calls >= 0 (got {budgets.rounds}, {budgets.tool_calls})")
    try:
        names = dict(PROMPTS[protocol])
        if protocol == "exec" and generate.json_schema is not None:
            names["exec_judge"] = STRUCTURED_EXEC_PROMPT
        prompts = {k: load_prompt(v) for k, v in names.items()}
        judge = create_model(judge_spec, model_options)
        strong = create_model(strong_spec, model_options) if strong_spec else None
    except (UnknownModel, UnknownPrompt) as exc:
        raise ProtocolError(str(exc)) from exc
    if protocol == "exec":
        from bench.reviewing.protocols.exec import ExecReviewer

        if suite is None or sandbox is None:
            raise ProtocolError("the exec protocol runs candidates: it needs the suite and a sandbox")
        if native_tools and generate.json_schema is not None:
            raise ProtocolError("--native-tools and --structured do not combine: under --structured the run "
                                "request is a field of the constrained reply; drop one of them")
        return ExecReviewer(judge, None, prompts, generate, budgets, suite=suite, sandbox=sandbox,
                            native_tools=native_tools)
    if native_tools:
        raise ProtocolError("--native-tools applies to the exec protocol only")
    from bench.reviewing.protocols.argue import ConsultancyReviewer, CritiqueReviewer, DebateReviewer

    cls = {"critique": CritiqueReviewer, "consultancy": ConsultancyReviewer, "debate": DebateReviewer}[protocol]
    return cls(judge, strong, prompts, generate, budgets)
