"""Visible tests: the docstring examples of a prompt, parsed into input/output pairs.

HumanEval writes examples in several styles; all are handled the same way: find
each call of the entry point in the docstring, parse its arguments as Python
literals, then read the expected value that follows (``>>>`` doctest output on the
next line, or after ``==``, ``=>``, ``➞``, ``->``, ``should return``, ``returns``...).
An example whose expected value cannot be read keeps its input; its expected
output then comes from the reference (see :func:`tasks.build`).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from typing import Any

_SEPARATORS = re.compile(
    r"^\s*(?:==>|==|=>|➞|->|→|:|=|\bshould\s+return\b|\breturns?\b|\bis\b|\bgives?\b|\boutput\s*:?)\s*",
    re.IGNORECASE,
)
_MISSING = object()


@dataclass(frozen=True)
class Example:
    """One docstring example: arguments, and the expected value if the text states one."""

    args: tuple[Any, ...]
    expected: Any
    has_expected: bool
    line: int


def _arity(prompt: str, entry_point: str) -> tuple[int, int]:
    """(required, total) positional parameters of ``entry_point``."""
    try:
        tree = ast.parse(prompt)
    except SyntaxError:
        return (0, 1 << 30)
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name == entry_point:
            total = len(node.args.posonlyargs) + len(node.args.args)
            if node.args.vararg:
                return (total - len(node.args.defaults), 1 << 30)
            return (total - len(node.args.defaults), total)
    return (0, 1 << 30)


def docstring_of(prompt: str, entry_point: str) -> str:
    """The docstring of ``entry_point`` in ``prompt`` (empty if none)."""
    try:
        tree = ast.parse(prompt)
    except SyntaxError:
        return ""
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name == entry_point:
            return ast.get_docstring(node, clean=False) or ""
    return ""


def _call_span(text: str, start: int) -> int | None:
    """Index just past the parenthesised argument list that opens at ``start``."""
    depth, i, quote = 0, start, ""
    while i < len(text):
        c = text[i]
        if quote:
            if c == "\\":
                i += 2
                continue
            if c == quote:
                quote = ""
        elif c in "\"'":
            quote = c
        elif c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return None


def _literal_prefix(text: str) -> Any:
    """The longest prefix of ``text`` (one line) that is a Python literal."""
    text = text.strip().rstrip(".,;")
    for end in range(len(text), 0, -1):
        chunk = text[:end].strip()
        if not chunk:
            break
        try:
            return ast.literal_eval(chunk)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            continue
    return _MISSING


_WORD_LITERALS = {"true": True, "false": False, "none": None}


def parse_examples(prompt: str, entry_point: str) -> list[Example]:
    """All examples of ``entry_point`` found in its docstring, in order."""
    doc = docstring_of(prompt, entry_point)
    lo, hi = _arity(prompt, entry_point)
    out: list[Example] = []
    seen: set[str] = set()
    for m in re.finditer(rf"\b{re.escape(entry_point)}\s*\(", doc):
        open_paren = m.end() - 1
        end = _call_span(doc, open_paren)
        if end is None:
            continue
        call_text = doc[m.start() : end]
        try:
            call = ast.parse(call_text, mode="eval").body
        except SyntaxError:
            continue
        if not isinstance(call, ast.Call) or call.keywords:
            continue
        try:
            args = tuple(ast.literal_eval(a) for a in call.args)
        except (ValueError, SyntaxError, TypeError):
            continue
        key = repr(args)
        if not lo <= len(args) <= hi or key in seen:
            continue
        seen.add(key)
        expected = _expected_after(doc, end)
        line = doc.count("\n", 0, m.start()) + 1
        out.append(Example(args, None if expected is _MISSING else expected, expected is not _MISSING, line))
    return out


def _expected_after(doc: str, end: int) -> Any:
    rest_of_line = doc[end:].split("\n", 1)[0]
    is_doctest = doc.rfind(">>>", 0, end) > doc.rfind("\n", 0, end)
    if is_doctest and not rest_of_line.strip():
        nxt = doc[end:].split("\n", 2)
        if len(nxt) >= 2:
            value = _literal_prefix(nxt[1])
            if value is _MISSING:
                word = nxt[1].strip().lower()
                return _WORD_LITERALS.get(word, _MISSING)
            return value
        return _MISSING
    sep = _SEPARATORS.match(rest_of_line)
    if sep is None:
        if not rest_of_line.strip():
            # "f(x)\n  -> y" or "f(x)\n  y" on the next line
            nxt = doc[end:].split("\n", 2)
            if len(nxt) >= 2:
                sep2 = _SEPARATORS.match(nxt[1])
                if sep2:
                    return _literal_prefix(nxt[1][sep2.end():])
        return _MISSING
    return _literal_prefix(rest_of_line[sep.end():])
