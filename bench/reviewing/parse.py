"""Reviews: the object every reviewer returns, and a tolerant parser for model replies.

Prompts ask for exactly::

    {"verdict": "buggy" | "correct", "p_buggy": <float 0..1>, "lines": [<int>, ...],
     "explanation": "<text>", "witness": "<Python literal tuple of call arguments>" | null}

Replies are parsed tolerantly (JSON inside prose or code fences, single quotes,
trailing commas, missing fields). A reply with no usable verdict or probability is an
``abstain`` with ``p_buggy = 0.5`` and the raw text kept. Parsing never raises.
"""

from __future__ import annotations

import ast
import json
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION = 1
Verdict = Literal["buggy", "correct", "abstain"]


class Review(BaseModel):
    """A reviewer's judgement of one candidate."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    schema_version: int = SCHEMA_VERSION
    verdict: Verdict
    p_buggy: float = Field(ge=0.0, le=1.0)
    lines: tuple[int, ...] = ()
    explanation: str = ""
    witness: str | None = None
    raw: str = ""
    parse_error: str | None = None
    error: str | None = Field(default=None, description="why the model gave no reply (request failed after retries)")
    input_tokens: int = 0
    output_tokens: int = 0
    transcript: list[dict[str, Any]] = Field(default_factory=list, description="protocol turns (role, content, tokens)")

    @classmethod
    def abstain(cls, raw: str, why: str) -> Review:
        return cls(verdict="abstain", p_buggy=0.5, raw=raw, parse_error=why)

    @classmethod
    def failed(cls, error: str) -> Review:
        """No reply at all: an abstain that a resumed run will ask again."""
        return cls(verdict="abstain", p_buggy=0.5, parse_error="no reply", error=error)


_FENCE = re.compile(r"```(?:json|JSON)?\s*(.*?)```", re.DOTALL)
_TRAILING_COMMA = re.compile(r",\s*([}\]])")


def _objects(text: str) -> list[str]:
    """Balanced ``{...}`` spans, outermost first, fenced blocks before bare ones."""
    spans = [m.group(1) for m in _FENCE.finditer(text)]
    for source in (*spans, text):
        depth, start, quote, esc = 0, -1, "", False
        for i, c in enumerate(source):
            if quote:
                if esc:
                    esc = False
                elif c == "\\":
                    esc = True
                elif c == quote:
                    quote = ""
                continue
            if c in "\"'" and depth:
                quote = c
            elif c == "{":
                if depth == 0:
                    start = i
                depth += 1
            elif c == "}" and depth:
                depth -= 1
                if depth == 0:
                    spans.append(source[start : i + 1])
    return spans


def _load(chunk: str) -> dict[str, Any] | None:
    for attempt in (chunk, _TRAILING_COMMA.sub(r"\1", chunk)):
        try:
            obj = json.loads(attempt)
            return obj if isinstance(obj, dict) else None
        except json.JSONDecodeError:
            pass
        try:  # single quotes, True/False/None
            obj = ast.literal_eval(attempt.replace("null", "None").replace("true", "True").replace("false", "False"))
            return obj if isinstance(obj, dict) else None
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            pass
    return None


def _verdict(v: Any) -> str | None:
    if isinstance(v, bool):
        return "buggy" if v else "correct"
    if not isinstance(v, str):
        return None
    v = v.strip().lower()
    if v in ("buggy", "bug", "incorrect", "wrong", "fail", "yes"):
        return "buggy"
    if v in ("correct", "ok", "no bug", "pass", "no"):
        return "correct"
    return None


def _prob(v: Any) -> float | None:
    if isinstance(v, bool) or v is None:
        return None
    try:
        x = float(str(v).strip().rstrip("%")) / (100.0 if isinstance(v, str) and v.strip().endswith("%") else 1.0)
    except ValueError:
        return None
    if x != x:
        return None
    return min(1.0, max(0.0, x))


def _lines(v: Any) -> tuple[int, ...]:
    if isinstance(v, (int, str)) and not isinstance(v, bool):
        v = [v]
    if not isinstance(v, (list, tuple)):
        return ()
    out = []
    for x in v:
        try:
            n = int(x)
        except (TypeError, ValueError):
            continue
        if 0 < n < 100000:
            out.append(n)
    return tuple(sorted(set(out)))


def parse_review(text: str) -> Review:
    """The first usable review object in ``text``; ``abstain`` if there is none."""
    if not isinstance(text, str) or not text.strip():
        return Review.abstain(text if isinstance(text, str) else "", "empty reply")
    for chunk in _objects(text):
        obj = _load(chunk)
        if obj is None:
            continue
        verdict, p = _verdict(obj.get("verdict")), _prob(obj.get("p_buggy"))
        if verdict is None and p is None:
            continue
        if verdict is None:
            verdict = "buggy" if p is not None and p >= 0.5 else "correct"
        if p is None:
            p = 0.9 if verdict == "buggy" else 0.1
        witness = obj.get("witness")
        if witness is not None and not isinstance(witness, str):
            witness = repr(tuple(witness)) if isinstance(witness, list) else str(witness)
        explanation = obj.get("explanation", "")
        return Review(verdict=verdict, p_buggy=p, lines=_lines(obj.get("lines")),  # type: ignore[arg-type]
                      explanation=str(explanation)[:4000], witness=witness or None, raw=text)
    return Review.abstain(text, "no JSON object with a verdict or p_buggy")


def parse_witness(witness: str | None) -> tuple[Any, ...] | None:
    """Call arguments from a witness string (a Python literal tuple); None if unusable."""
    if not witness:
        return None
    try:
        value = ast.literal_eval(witness.strip())
    except (ValueError, SyntaxError, MemoryError, RecursionError, TypeError):
        return None
    if isinstance(value, tuple):
        return value
    if isinstance(value, list):
        return tuple(value)
    return (value,)
