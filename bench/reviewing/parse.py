"""Reviews: the object every reviewer returns, and a total parser for model replies.

Prompts ask for exactly::

    {"verdict": "buggy" | "correct", "p_buggy": <float 0..1>, "lines": [<int>, ...],
     "explanation": "<text>", "witness": "<Python literal tuple of call arguments>" | null}

Replies are parsed tolerantly (JSON inside prose or code fences, single quotes, Python's
``None``/``True`` or JSON's ``null``/``true``, trailing commas, missing fields). A reply with no
usable verdict or probability is an ``abstain`` with ``p_buggy = 0.5`` and the raw text kept.

Replies come from models and from hostile submitters, so parsing is total: :func:`parse_review`
and :func:`read_witness` return a result for any input and never raise, in time linear in the
examined text and with bounded memory. The caps and rules:

- ``MAX_REPLY_CHARS`` (100,000): only a reply's first characters are examined, and ``raw`` keeps
  only those (so re-parsing ``raw`` gives the same review);
- ``MAX_OBJECTS`` (256): at most this many ``{...}`` candidates are decoded, fenced blocks first;
  a candidate nested deeper than ``MAX_NESTING`` (64) brackets is skipped undecoded, and candidates
  are read as Python literals (not only JSON) for at most ``MAX_LITERAL_CHARS`` (50,000) characters
  per reply;
- in JSON, an integer of more than ``MAX_INT_DIGITS`` (1,000) digits reads as ±inf;
- ``p_buggy``: a finite number, clamped to [0, 1] (``"85%"`` reads 0.85); a non-finite one (NaN,
  ±inf, an overflowing number) makes the reply an ``abstain`` with ``parse_error``;
- ``lines``: only integers 1..``MAX_LINE`` (10,000) are kept (also as digit strings or integral
  floats), from the first ``MAX_LINE_ITEMS`` (1,000) items; anything else is dropped silently;
- ``explanation`` keeps at most ``MAX_EXPLANATION`` (4,000) characters; a field that cannot be
  turned into text (e.g. it holds a huge integer) is dropped;
- lone surrogates, which no UTF-8 file can hold, become U+FFFD in ``raw``, ``explanation`` and
  ``witness``; ``null``/``true``/``false`` are rewritten only outside string literals.

:func:`read_witness` turns a witness into call arguments or says why not: ``unparseable`` (not a
Python literal) or ``invalid_input``, when the text is longer than ``MAX_WITNESS_CHARS`` (10,000),
nests deeper than ``MAX_WITNESS_DEPTH`` (32), holds an integer with ``abs(x) >= 10**1000``
(``MAX_WITNESS_INT_DIGITS``), or breaks another limit of the harness
(:func:`tasks.contracts.encoding_problem`). So no witness the sandbox cannot take reaches it.
"""

from __future__ import annotations

import ast
import itertools
import json
import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from tasks.contracts import encoding_problem

SCHEMA_VERSION = 1
Verdict = Literal["buggy", "correct", "abstain"]

MAX_REPLY_CHARS = 100_000
MAX_OBJECTS = 256
MAX_NESTING = 64
MAX_LITERAL_CHARS = 50_000
MAX_INT_DIGITS = 1_000
MAX_LINE = 10_000
MAX_LINE_ITEMS = 1_000
MAX_EXPLANATION = 4_000
MAX_WITNESS_CHARS = 10_000
MAX_WITNESS_DEPTH = 32
MAX_WITNESS_INT_DIGITS = 1_000


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


# ------------------------------------------------------------------ text helpers (each linear, none raises)

_SURROGATE = re.compile("[\ud800-\udfff]")
_TRAILING_COMMA = re.compile(r",\s*([}\]])")
_JSON_WORDS = re.compile(r"\b(?:null|true|false)\b")
_PY_WORDS = {"null": "None", "true": "True", "false": "False"}
_CODE_RUN = re.compile(r"[^\"']+")
_QUOTED = {'"': re.compile(r'"(?:[^"\\]|\\.)*"?', re.DOTALL), "'": re.compile(r"'(?:[^'\\]|\\.)*'?", re.DOTALL)}
_LINE_TEXT = re.compile(r"\s*\+?(\d{1,6})\s*")


def clean_text(text: str) -> str:
    """``text`` with lone surrogates (which UTF-8 cannot encode) replaced by U+FFFD."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return _SURROGATE.sub("\ufffd", text)


def _segments(text: str) -> Iterator[tuple[str, bool]]:
    """``text`` as consecutive (piece, is_string) runs: quoted strings (either quote, backslash escapes) and code."""
    i, n = 0, len(text)
    while i < n:
        quote = text[i]
        m = _QUOTED[quote].match(text, i) if quote in _QUOTED else _CODE_RUN.match(text, i)
        end = m.end() if m is not None else i + 1  # each pattern matches at least one character here
        yield text[i:end], quote in _QUOTED
        i = end


def _nesting(text: str) -> int:
    """The deepest bracket nesting (``{[(``) outside string literals."""
    deepest = depth = 0
    for piece, is_string in _segments(text):
        if is_string:
            continue
        for c in piece:
            if c in "{[(":
                depth += 1
                deepest = max(deepest, depth)
            elif c in "}])":
                depth -= 1
    return deepest


def _rewrite(text: str, fix: Callable[[str], str]) -> str:
    """``text`` with ``fix`` applied to the code between string literals only."""
    return "".join(piece if is_string else fix(piece) for piece, is_string in _segments(text))


def _no_trailing_commas(code: str) -> str:
    return _TRAILING_COMMA.sub(r"\1", code)


def _python_words(code: str) -> str:
    return _JSON_WORDS.sub(lambda m: _PY_WORDS[m.group()], code)


# ------------------------------------------------------------------ finding and decoding candidate objects


def _fenced(text: str) -> Iterator[str]:
    """Contents of ```` ``` ````-fenced blocks (a ``json`` tag and leading whitespace dropped), in order."""
    pos = 0
    while (start := text.find("```", pos)) >= 0:
        body = start + 3
        if text.startswith(("json", "JSON"), body):
            body += 4
        end = text.find("```", body)
        if end < 0:
            return
        yield text[body:end].lstrip()
        pos = end + 3


def _spans(source: str) -> Iterator[str]:
    """Outermost balanced ``{...}`` spans of ``source``; quotes inside a span are respected."""
    depth, start, quote, esc = 0, -1, "", False
    i, n = 0, len(source)
    while i < n:
        if depth == 0:  # outside any span only the next "{" matters
            i = source.find("{", i)
            if i < 0:
                return
        c = source[i]
        if quote:
            if esc:
                esc = False
            elif c == "\\":
                esc = True
            elif c == quote:
                quote = ""
        elif c in "\"'":
            quote = c
        elif c == "{":
            if depth == 0:
                start = i
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                yield source[start : i + 1]
        i += 1


def _objects(text: str) -> Iterator[str]:
    """Candidate review objects, at most ``MAX_OBJECTS``: fenced blocks, then ``{...}`` spans in them and in ``text``."""
    fences = list(itertools.islice(_fenced(text), MAX_OBJECTS))
    spans = (s for source in (*fences, text) for s in _spans(source))
    return itertools.islice(itertools.chain(fences, spans), MAX_OBJECTS)


def _json_int(digits: str) -> int | float:
    """A JSON integer, or ±inf past ``MAX_INT_DIGITS`` digits (``int()`` would raise or take quadratic time)."""
    if len(digits) - digits.startswith("-") > MAX_INT_DIGITS:
        return -math.inf if digits.startswith("-") else math.inf
    return int(digits)


def _load(chunk: str, literal: bool) -> dict[str, Any] | None:
    """The dict ``chunk`` holds as JSON (trailing commas allowed) or, if ``literal``, as a Python literal."""
    if _nesting(chunk) > MAX_NESTING:
        return None
    for attempt in (chunk, _rewrite(chunk, _no_trailing_commas)):
        try:
            obj = json.loads(attempt, parse_int=_json_int, strict=False)  # raw newlines in strings (llama.cpp)
            return obj if isinstance(obj, dict) else None
        except Exception:  # noqa: BLE001 - JSONDecodeError, or anything else hostile text provokes
            pass
    if not literal:
        return None
    try:  # single quotes, True/False/None
        obj = ast.literal_eval(_rewrite(chunk, _python_words))
    except Exception:  # noqa: BLE001 - SyntaxError, ValueError, MemoryError, RecursionError...
        return None
    return obj if isinstance(obj, dict) else None


# ------------------------------------------------------------------ fields


def _text(v: Any) -> str | None:
    """``v`` as text (``str()``), or None when even that fails (e.g. a huge integer)."""
    try:
        return v if isinstance(v, str) else str(v)
    except Exception:  # noqa: BLE001 - int-string limit, or a hostile __str__
        return None


def _verdict(v: Any) -> str | None:
    if isinstance(v, bool):
        return "buggy" if v else "correct"
    if not isinstance(v, str) or len(v) > 100:
        return None
    v = v.strip().lower()
    if v in ("buggy", "bug", "incorrect", "wrong", "fail", "yes"):
        return "buggy"
    if v in ("correct", "ok", "no bug", "pass", "no"):
        return "correct"
    return None


def _prob(v: Any) -> tuple[float | None, str | None]:
    """(p, problem): ``(None, None)`` when ``v`` is absent or not a number; a problem when it is not finite."""
    if v is None or isinstance(v, bool):
        return None, None
    scale = 1.0
    if isinstance(v, str):
        v = v.strip()
        if len(v) > 64:
            return None, None
        if v.endswith("%"):
            v, scale = v[:-1], 100.0
    elif not isinstance(v, (int, float)):
        return None, None
    try:
        x = float(v) / scale
    except OverflowError:
        x = math.inf
    except ValueError:
        return None, None
    if not math.isfinite(x):
        return None, "p_buggy is not a finite number"
    return min(1.0, max(0.0, x)), None


def _line(x: Any) -> int | None:
    """A line number in 1..MAX_LINE from an int, an integral float or a digit string; None otherwise."""
    if isinstance(x, bool):
        return None
    if isinstance(x, float):
        x = int(x) if x.is_integer() else None  # is_integer() is False for NaN and ±inf
    elif isinstance(x, str):
        m = _LINE_TEXT.fullmatch(x) if len(x) <= 20 else None
        x = int(m.group(1)) if m else None
    elif not isinstance(x, int):
        return None
    return x if x is not None and 1 <= x <= MAX_LINE else None


def _lines(v: Any) -> tuple[int, ...]:
    if isinstance(v, (int, float, str)) and not isinstance(v, bool):
        v = [v]
    if not isinstance(v, (list, tuple)):
        return ()
    found = {_line(x) for x in v[:MAX_LINE_ITEMS]}
    return tuple(sorted(n for n in found if n is not None))


def _witness(v: Any) -> str | None:
    """The witness as text: a string as given, a list as the tuple literal of its items."""
    if v is None:
        return None
    if isinstance(v, list):
        try:
            text: str | None = repr(tuple(v))
        except Exception:  # noqa: BLE001 - a huge integer inside
            text = None
    else:
        text = _text(v)
    return clean_text(text) if text else None


def _explanation(v: Any) -> str:
    text = _text(v)
    return clean_text(text[:MAX_EXPLANATION]) if text else ""


# ------------------------------------------------------------------ reviews


def parse_review(text: str) -> Review:
    """The first usable review object in ``text``; ``abstain`` if there is none. Never raises."""
    if not isinstance(text, str):
        return Review.abstain("", "empty reply")
    raw = clean_text(text[:MAX_REPLY_CHARS])
    try:
        return _review(raw, cut=len(text) > MAX_REPLY_CHARS)
    except Exception as exc:  # noqa: BLE001 - a last line of defence: every step above is total already
        return Review.abstain(raw, f"parser error: {type(exc).__name__}")


def _review(raw: str, cut: bool) -> Review:
    if not raw.strip():
        return Review.abstain(raw, "empty reply")
    literal_left = MAX_LITERAL_CHARS  # Python-literal parsing builds a syntax tree: a budget per reply
    for chunk in _objects(raw):
        literal = len(chunk) <= literal_left
        literal_left -= len(chunk) if literal else 0
        obj = _load(chunk, literal)
        if obj is None:
            continue
        verdict = _verdict(obj.get("verdict"))
        p, problem = _prob(obj.get("p_buggy"))
        if problem is not None:
            return Review.abstain(raw, problem)
        if verdict is None and p is None:
            continue
        if verdict is None:
            verdict = "buggy" if p is not None and p >= 0.5 else "correct"
        if p is None:
            p = 0.9 if verdict == "buggy" else 0.1
        return Review(verdict=verdict, p_buggy=p, lines=_lines(obj.get("lines")),  # type: ignore[arg-type]
                      explanation=_explanation(obj.get("explanation", "")), witness=_witness(obj.get("witness")),
                      raw=raw)
    where = f" in the first {MAX_REPLY_CHARS:,} characters" if cut else ""
    return Review.abstain(raw, f"no JSON object with a verdict or p_buggy{where}")


def run_request(text: str) -> str | None:
    """The ``run`` string of a structured ``exec`` turn (the first object with one), or None; never raises.

    None when no object has a non-empty string ``run`` (null means: no more runs, read the reply
    as the final review). Only JSON is read, within the caps :func:`parse_review` uses.
    """
    if not isinstance(text, str):
        return None
    try:
        for chunk in _objects(clean_text(text[:MAX_REPLY_CHARS])):
            obj = _load(chunk, literal=False)
            if obj is None or "run" not in obj:
                continue
            run = obj["run"]
            return run.strip() or None if isinstance(run, str) else None
    except Exception:  # noqa: BLE001 - a last line of defence, as in parse_review
        return None
    return None


# ------------------------------------------------------------------ witnesses

WitnessParseStatus = Literal["ok", "none", "unparseable", "invalid_input"]


@dataclass(frozen=True)
class WitnessArgs:
    """What a witness text gives: call arguments (``status == "ok"``), or why there are none.

    Attributes:
        args: the call arguments, or None.
        status: ``ok``; ``none`` (no witness); ``unparseable`` (not a Python literal); or
            ``invalid_input`` (a literal past the harness's limits: see the module docstring).
        reason: one line saying why there are no arguments (empty when ``ok``).
    """

    args: tuple[Any, ...] | None
    status: WitnessParseStatus
    reason: str = ""


def read_witness(witness: str | None) -> WitnessArgs:
    """Call arguments from a witness string (a Python literal tuple), within the harness's limits; never raises."""
    if not isinstance(witness, str) or not witness.strip():
        return WitnessArgs(None, "none", "no witness")
    text = witness.strip()
    if len(text) > MAX_WITNESS_CHARS:
        return WitnessArgs(None, "invalid_input",
                           f"the witness is {len(text):,} characters long (the limit is {MAX_WITNESS_CHARS:,})")
    if _nesting(text) > MAX_WITNESS_DEPTH + 1:  # +1: the brackets of the argument tuple itself
        return WitnessArgs(None, "invalid_input", f"the witness is nested more than {MAX_WITNESS_DEPTH} deep")
    try:
        value = ast.literal_eval(text)
    except Exception:  # noqa: BLE001 - SyntaxError, ValueError, MemoryError, RecursionError...
        return WitnessArgs(None, "unparseable", "not a Python literal tuple of call arguments")
    args = value if isinstance(value, tuple) else tuple(value) if isinstance(value, list) else (value,)
    problem = encoding_problem(args, max_int_digits=MAX_WITNESS_INT_DIGITS, max_depth=MAX_WITNESS_DEPTH)
    if problem is not None:
        return WitnessArgs(None, "invalid_input", f"the harness cannot take the witness: {problem}")
    return WitnessArgs(args, "ok")


def parse_witness(witness: str | None) -> tuple[Any, ...] | None:
    """Call arguments from a witness string (a Python literal tuple); None if unusable (see :func:`read_witness`)."""
    return read_witness(witness).args
