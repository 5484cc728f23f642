"""The JSON schema of a review reply, for structured (schema-constrained) decoding.

``obench eval --structured`` passes :data:`REVIEW_SCHEMA` as ``GenerateConfig.json_schema``
(protocols constrain the judge's final turn to it, and ``exec``'s turns to :func:`exec_turn_schema`):
the ``gguf``/``local`` backends turn it into a llama.cpp grammar, the ``openai`` backend
sends it as ``response_format``. It is the object the review prompts ask for (see
:mod:`bench.reviewing.parse`): ``verdict`` is ``buggy`` or ``correct`` (abstaining is
the parser's verdict for an unusable reply, never the model's), ``p_buggy`` a number in
[0, 1], ``lines`` integers, ``explanation`` text, ``witness`` a string or null. Every
property is required and no other is allowed (the form OpenAI's strict mode accepts).

String lengths and the number of lines are bounded so that a small model constrained to
the schema still closes the object within a reply budget of a few hundred tokens.

May import: nothing of the project.
"""

from __future__ import annotations

import copy
from typing import Any

MAX_EXPLANATION = 300
"""Characters of ``explanation`` the schema allows."""
MAX_WITNESS = 160
"""Characters of ``witness`` the schema allows."""
MAX_LINES = 8
"""Entries of ``lines`` the schema allows."""

REVIEW_SCHEMA: dict[str, Any] = {
    "title": "review",
    "type": "object",
    "properties": {
        "verdict": {"type": "string", "enum": ["buggy", "correct"]},
        "p_buggy": {"type": "number", "minimum": 0, "maximum": 1},
        "lines": {"type": "array", "items": {"type": "integer"}, "maxItems": MAX_LINES},
        "explanation": {"type": "string", "maxLength": MAX_EXPLANATION},
        "witness": {"anyOf": [{"type": "string", "maxLength": MAX_WITNESS}, {"type": "null"}]},
    },
    "required": ["verdict", "p_buggy", "lines", "explanation", "witness"],
    "additionalProperties": False,
}


def review_schema() -> dict[str, Any]:
    """A fresh copy of :data:`REVIEW_SCHEMA` (callers may not mutate the shared one)."""
    return copy.deepcopy(REVIEW_SCHEMA)


def exec_turn_schema() -> dict[str, Any]:
    """The schema of one structured ``exec`` turn while runs are left: ``run`` and a review so far.

    ``run`` is the call-argument tuple to run next (a Python literal, as a string) or null to
    stop; the other properties are :data:`REVIEW_SCHEMA`'s, read as the final review when
    ``run`` is null. ``run`` comes first, so the model decides whether to run before it reviews.
    """
    schema = review_schema()
    schema["title"] = "exec_turn"
    schema["properties"] = {"run": {"anyOf": [{"type": "string", "maxLength": MAX_WITNESS}, {"type": "null"}]},
                            **schema["properties"]}
    schema["required"] = ["run", *schema["required"]]
    return schema


def matches_review_schema(obj: Any) -> list[str]:
    """What makes ``obj`` differ from :data:`REVIEW_SCHEMA` (empty when it matches)."""
    if not isinstance(obj, dict):
        return [f"not an object: {type(obj).__name__}"]
    problems = []
    props = REVIEW_SCHEMA["properties"]
    missing = [k for k in REVIEW_SCHEMA["required"] if k not in obj]
    extra = [k for k in obj if k not in props]
    if missing:
        problems.append(f"missing {missing}")
    if extra:
        problems.append(f"unexpected {extra}")
    if "verdict" in obj and obj["verdict"] not in ("buggy", "correct"):
        problems.append(f"verdict {obj['verdict']!r}")
    p = obj.get("p_buggy")
    if "p_buggy" in obj and (isinstance(p, bool) or not isinstance(p, (int, float))):
        problems.append(f"p_buggy {p!r} is not a number")
    lines = obj.get("lines")
    if "lines" in obj and not (isinstance(lines, list) and len(lines) <= MAX_LINES
                               and all(isinstance(x, int) and not isinstance(x, bool) for x in lines)):
        problems.append(f"lines {lines!r}")
    if "explanation" in obj and not (isinstance(obj["explanation"], str)
                                     and len(obj["explanation"]) <= MAX_EXPLANATION):
        problems.append("explanation is not a string of at most MAX_EXPLANATION characters")
    w = obj.get("witness")
    if "witness" in obj and not (w is None or (isinstance(w, str) and len(w) <= MAX_WITNESS)):
        problems.append(f"witness {w!r}")
    return problems
