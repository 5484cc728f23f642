"""Visible tests: the docstring examples of a prompt, parsed into input/output pairs.

HumanEval writes examples in several styles; all are handled the same way: find
each call of the entry point in the docstring, parse its arguments as Python
literals, then read the expected value that follows (``>>>`` doctest output on the
next line, or after ``==``, ``=>``, ``➞``, ``->``, ``should return``, ``returns``...).
An example whose expected value cannot be read keeps its input; its expected
output then comes from the reference (see :func:`tasks.build`).

:func:`with_examples_block` goes the other way: it appends a marked block of examples (computed by
the reference) to a prompt, in a form :func:`parse_examples` reads back.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from collections.abc import Sequence
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


# --------------------------------------------------------------------------------------------------
# Adding examples to a prompt
# --------------------------------------------------------------------------------------------------

#: First line of the block :func:`with_examples_block` appends (how a reader tells added examples apart).
EXAMPLES_MARKER = (
    "Examples added by OversightBench (computed by the reference solution on inputs from the task's own tests):"
)
_TRIPLE = ('"""', "'''")


def with_examples_block(
    prompt: str, entry_point: str, examples: Sequence[tuple[tuple[Any, ...], Any]], kind: str = "function"
) -> str:
    """``prompt`` with a marked block of ``examples`` appended.

    Function tasks: the block goes at the end of ``entry_point``'s docstring (before its closing
    quotes; a new docstring is inserted if the function has none), indented like the docstring,
    in doctest form: the :data:`EXAMPLES_MARKER` line, then ``>>> f(<repr args>)`` and the
    ``repr`` of the output for each example. Reprs are escaped so the docstring's value shows them
    exactly (a raw docstring cannot escape: an example whose text holds its triple quote is
    skipped, as is one whose repr fails or spans lines). Set elements are shown sorted, so the
    text never depends on hash order. Program tasks (``kind="program"``, each example
    ``((stdin,), stdout)``): the block goes at the end of the text, each example as ``Input:`` and
    ``Output:`` with the text indented below (``(empty)`` for none). Line breaks follow the prompt's.

    Never raises: with no usable example, an unknown kind, or a prompt where the block cannot be
    placed safely (the result is re-parsed and must differ from ``prompt`` only in that
    docstring, for every body suffix the original parses with), ``prompt`` is returned unchanged.

    Args:
        prompt: Task prompt (function signature + docstring, or a program statement).
        entry_point: Name of the function whose docstring receives the block.
        examples: ``(args, output)`` pairs, in the order they are shown.
        kind: ``"function"`` or ``"program"``.

    Returns:
        The new prompt, or ``prompt`` itself.
    """
    try:
        if not isinstance(prompt, str) or not isinstance(entry_point, str):
            return prompt
        pairs = [ex for ex in list(examples) if isinstance(ex, (tuple, list)) and len(ex) == 2]
        if kind == "program":
            return _program_block(prompt, pairs)
        if kind != "function":
            return prompt
        rendered = [r for r in (_render(entry_point, args, out) for args, out in pairs) if r is not None]
        if not rendered:
            return prompt
        return _function_block(prompt, entry_point, rendered)
    except Exception:  # noqa: BLE001 - documented: odd input leaves the prompt unchanged
        return prompt


def _stable_repr(value: Any) -> str:
    """``repr``, with set elements sorted (recursively through lists, tuples and dicts)."""
    t = type(value)
    if t is list:
        return "[" + ", ".join(_stable_repr(v) for v in value) + "]"
    if t is tuple:
        inner = ", ".join(_stable_repr(v) for v in value)
        return "(" + inner + ("," if len(value) == 1 else "") + ")"
    if t is dict:
        return "{" + ", ".join(f"{_stable_repr(k)}: {_stable_repr(v)}" for k, v in value.items()) + "}"
    if t is set or t is frozenset:
        items = ", ".join(sorted(_stable_repr(v) for v in value))
        if t is set:
            return "{" + items + "}" if items else "set()"
        return "frozenset({" + items + "})" if items else "frozenset()"
    return repr(value)


def _shown(value: Any) -> str:
    try:
        return _stable_repr(value)
    except RecursionError:  # a cycle (or very deep nesting): plain repr marks cycles with "..."
        return repr(value)


def _render(entry_point: str, args: Any, output: Any) -> tuple[str, str] | None:
    """The doctest call line and output line of one example (None if it cannot be one line each)."""
    if not isinstance(args, (tuple, list)):
        return None
    try:
        call = f">>> {entry_point}({', '.join(_shown(a) for a in args)})"
        out = _shown(output)
    except Exception:  # noqa: BLE001 - a value whose repr fails is not shown
        return None
    if not (call.isprintable() and out.isprintable()):  # newlines, tabs, NULs...: not a doctest line
        return None
    return call, out


def _escape(line: str, quote: str, raw: bool) -> str | None:
    """Source text for ``line`` inside a docstring closed by ``quote * 3`` (None if impossible)."""
    if raw:
        return None if quote * 3 in line else line
    line = line.replace("\\", "\\\\")
    return re.sub(f"{quote}(?={quote})", lambda _m: "\\" + quote, line)


def _program_block(prompt: str, pairs: list[Any]) -> str:
    parts = []
    for args, out in pairs:
        stdin = args[0] if isinstance(args, (tuple, list)) and len(args) == 1 else None
        if isinstance(stdin, str) and isinstance(out, str):
            parts.append(_labelled("Input:", stdin) + _labelled("Output:", out))
    if not parts:
        return prompt
    sep = "" if not prompt else "\n" if prompt.endswith("\n") else "\n\n"
    return _splice(prompt, len(prompt), sep + EXAMPLES_MARKER + "\n" + "".join(parts))


def _labelled(label: str, text: str) -> str:
    """``label`` and ``text`` indented on the lines below it (``(empty)`` for no text)."""
    if not text:
        return label + " (empty)\n"
    return label + "\n" + "".join(("    " + line if line else "") + "\n" for line in text.splitlines())


def _entry_def(tree: ast.AST, entry_point: str) -> ast.FunctionDef | None:
    """The function :func:`docstring_of` reads (first ``def entry_point`` in ``ast.walk`` order)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name == entry_point:
            return node
    return None


def _doc_const(node: ast.FunctionDef) -> ast.Constant | None:
    if node.body and isinstance(node.body[0], ast.Expr):
        value = node.body[0].value
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            return value
    return None


def _try_parse(src: str) -> ast.Module | None:
    try:
        return ast.parse(src)
    except (SyntaxError, ValueError):
        return None


def _body_suffixes(prompt: str) -> list[str]:
    """Bodies tried after the prompt so it parses: none, HumanEval's ``"    pass"``, one indented per the last def."""
    out = ["", "    pass\n"]
    defs = re.findall(r"^([ \t]*)(?:async[ \t]+)?def\b", prompt, re.MULTILINE)
    if defs:
        nl = "" if not prompt or prompt.endswith("\n") else "\n"
        out.append(nl + defs[-1] + "    pass\n")
    return list(dict.fromkeys(out))


def _function_block(prompt: str, entry_point: str, rendered: list[tuple[str, str]]) -> str:
    parsed = [(s, t) for s in _body_suffixes(prompt) if (t := _try_parse(prompt + s)) is not None]
    for suffix, tree in parsed:
        node = _entry_def(tree, entry_point)
        if node is None:
            continue
        placed = _place(prompt, prompt + suffix, node, rendered)
        if placed is not None and _verified(prompt, placed[0], entry_point, [s for s, _ in parsed], placed[1]):
            return placed[0]
    return prompt


def _line_starts(src: str) -> list[int]:
    return [0] + [m.end() for m in re.finditer("\n", src)]


def _offset(src: str, starts: list[int], lineno: int, col: int) -> int:
    """Character offset of an ``ast`` position (``col`` counts UTF-8 bytes)."""
    start = starts[lineno - 1]
    end = starts[lineno] if lineno < len(starts) else len(src)
    return start + len(src[start:end].encode("utf-8")[:col].decode("utf-8"))


def _leading_ws(src: str, starts: list[int], lineno: int) -> str:
    m = re.match(r"[ \t]*", src[starts[lineno - 1] :])
    return m.group() if m else ""


def _place(prompt: str, src: str, node: ast.FunctionDef, rendered: list[tuple[str, str]]) -> tuple[str, str] | None:
    """(new prompt, expected docstring value), or None if no placement fits."""
    starts = _line_starts(src)
    def_indent = _leading_ws(src, starts, node.lineno)
    const = _doc_const(node)
    if const is None:  # no docstring: a new one, as the first statement, indented like the body
        first = node.body[0]
        lineno = min([first.lineno] + [d.lineno for d in getattr(first, "decorator_list", [])])
        pos = starts[lineno - 1]
        indent = _leading_ws(src, starts, lineno) if pos < len(prompt) else def_indent + "    "
        lead = src[len(prompt) : pos]
        if pos > len(prompt):
            if lead.strip("\n"):
                return None
            pos = len(prompt)
        lines = _block_lines(rendered, '"', False)
        if lines is None:
            return None
        value = "\n" + "".join(indent + v + "\n" for v, _ in lines) + indent
        text = lead + indent + '"""\n' + "".join(indent + s + "\n" for _, s in lines) + indent + '"""\n'
        return _splice(prompt, pos, text), value
    if const.end_lineno is None or const.end_col_offset is None:
        return None
    doc = str(const.value)
    start = _offset(src, starts, const.lineno, const.col_offset)
    end = _offset(src, starts, const.end_lineno, const.end_col_offset)
    if end > len(prompt):
        return None
    tokens = [t.string for t in tokenize.generate_tokens(io.StringIO("(" + src[start:end] + ")").readline)
              if t.type == tokenize.STRING]
    m = re.fullmatch(r"([rRuU]?)('''|\"\"\"|'|\")(.*)", tokens[-1] if tokens else "", re.DOTALL)
    if m is None or not src[:end].endswith(m.group()) or not m.group(3).endswith(m.group(2)):
        return None
    before_start = src[starts[const.lineno - 1] : start]
    indent = before_start if not before_start.strip(" \t") else def_indent + "    "
    if m.group(2) not in _TRIPLE:  # a one-quote string: append a triple-quoted one (implicit concatenation)
        lines = _block_lines(rendered, '"', False)
        if lines is None:
            return None
        head = "\n\n" if doc.strip() else "\n"
        value = head + "".join(indent + v + "\n" for v, _ in lines) + indent
        text = ' """' + head + "".join(indent + s + "\n" for _, s in lines) + indent + '"""'
        return _splice(prompt, end, text), doc + value
    lines = _block_lines(rendered, m.group(2)[0], "r" in m.group(1).lower())
    if lines is None:
        return None
    close = end - 3
    line_start = src.rfind("\n", start, close) + 1
    tail = src[line_start:close]
    kept = doc[: len(doc) - len(tail)]
    if line_start > start and not tail.strip(" \t") and doc.endswith(tail) and (not kept or kept.endswith("\n")):
        # closing quotes on their own line: the block goes on the lines before them
        prev = kept[:-1].rsplit("\n", 1)[-1]
        head = "\n" if prev.strip() else ""
        value = head + "".join(indent + v + "\n" for v, _ in lines)
        text = head + "".join(indent + s + "\n" for _, s in lines)
        return _splice(prompt, line_start, text), kept + value + tail
    head = "\n\n" if doc.strip() else "\n"
    value = head + "".join(indent + v + "\n" for v, _ in lines) + indent
    text = head + "".join(indent + s + "\n" for _, s in lines) + indent
    return _splice(prompt, close, text), doc + value


def _splice(prompt: str, pos: int, text: str) -> str:
    """``text`` inserted at ``pos``, its line breaks written the prompt's way (``\\r\\n`` or ``\\n``)."""
    return prompt[:pos] + (text.replace("\n", "\r\n") if "\r\n" in prompt else text) + prompt[pos:]


def _block_lines(rendered: list[tuple[str, str]], quote: str, raw: bool) -> list[tuple[str, str]] | None:
    """(value, source) of each block line; examples that cannot be written are skipped (None if all are)."""
    out: list[tuple[str, str]] = []
    for call, result in rendered:
        esc = [_escape(call, quote, raw), _escape(result, quote, raw)]
        if esc[0] is not None and esc[1] is not None:
            out += [(call, esc[0]), (result, esc[1])]
    marker = _escape(EXAMPLES_MARKER, quote, raw)
    if not out or marker is None:
        return None
    return [(EXAMPLES_MARKER, marker), *out]


def _verified(prompt: str, new: str, entry_point: str, suffixes: list[str], expected_doc: str) -> bool:
    """Whether ``new`` differs from ``prompt`` only in the entry point's docstring (being ``expected_doc``)."""
    for suffix in suffixes:
        old_tree, new_tree = _try_parse(prompt + suffix), _try_parse(new + suffix)
        if old_tree is None or new_tree is None:
            return False
        old_node, new_node = _entry_def(old_tree, entry_point), _entry_def(new_tree, entry_point)
        if old_node is None or new_node is None or ast.get_docstring(new_node, clean=False) != expected_doc:
            return False
        old_const, new_const = _doc_const(old_node), _doc_const(new_node)
        if new_const is None:
            return False
        if old_const is None:
            del new_node.body[0]
        else:
            old_const.value = new_const.value = ""
        if ast.dump(old_tree) != ast.dump(new_tree):
            return False
    return True
